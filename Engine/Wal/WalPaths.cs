using SlateSharp.Storage;

namespace SlateSharp.Wal;

/// <summary>WAL objects live at <c>wal/{id:D20}.sst</c>; ids start at 1.</summary>
internal static class WalPaths
{
    private static readonly NumberedObjectNames Names = new("wal/", ".sst");

    public static string Prefix => Names.Prefix;

    public static ObjectPath PathOf(ulong id) => Names.PathOf(id);

    public static bool TryParseId(ObjectPath path, out ulong id) => Names.TryParseId(path, out id);
}
