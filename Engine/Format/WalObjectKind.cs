namespace SlateSharp.Format;

/// <summary>What a decoded WAL object is (docs/format/wal.md).</summary>
internal enum WalObjectKind
{
    /// <summary>Write batches (possibly none), in the order the writer appended them.</summary>
    Data,

    /// <summary>A WAL id claimed by a newer writer to stop older ones; holds no rows.</summary>
    Fence,
}
