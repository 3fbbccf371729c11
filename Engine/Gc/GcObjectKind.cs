namespace SlateSharp;

/// <summary>The kinds of object the garbage collector deletes.</summary>
public enum GcObjectKind
{
    /// <summary>An SST under <c>compacted/</c>.</summary>
    Sst,

    /// <summary>A manifest version under <c>manifest/</c>.</summary>
    Manifest,

    /// <summary>A WAL object (data or fence) under <c>wal/</c>.</summary>
    Wal,

    /// <summary>A reader lease under <c>leases/</c>.</summary>
    Lease,
}
