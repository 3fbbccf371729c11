using System.Globalization;
using SlateSharp.Storage;

namespace SlateSharp.Wal;

/// <summary>WAL objects live at <c>wal/{id:D20}.sst</c>; ids start at 1.</summary>
internal static class WalPaths
{
    public const string Prefix = "wal/";
    private const string Suffix = ".sst";

    public static ObjectPath PathOf(ulong id) => ObjectPath.Parse(Prefix + id.ToString("D20", CultureInfo.InvariantCulture) + Suffix);

    public static bool TryParseId(ObjectPath path, out ulong id)
    {
        id = 0;
        var value = path.Value;
        return value.Length == Prefix.Length + 20 + Suffix.Length &&
               value.StartsWith(Prefix, StringComparison.Ordinal) &&
               value.EndsWith(Suffix, StringComparison.Ordinal) &&
               ulong.TryParse(value.AsSpan(Prefix.Length, 20), NumberStyles.None, CultureInfo.InvariantCulture, out id) &&
               id > 0;
    }
}
