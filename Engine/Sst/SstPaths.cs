using SlateSharp.Manifest;
using SlateSharp.Storage;

namespace SlateSharp.Sst;

/// <summary>Where SSTs live in a database's store: <c>compacted/{ULID}.sst</c>, for L0 and sorted runs alike.</summary>
internal static class SstPaths
{
    public const string Prefix = "compacted/";

    public static ObjectPath PathOf(SstId id) => ObjectPath.Parse($"{Prefix}{id}.sst");
}
