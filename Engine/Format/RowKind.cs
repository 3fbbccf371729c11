namespace SlateSharp.Format;

/// <summary>What a row means. Stored in the low two bits of a row's flags byte (docs/format/sst.md).</summary>
internal enum RowKind : byte
{
    /// <summary>The key has this value.</summary>
    Put = 0,

    /// <summary>A tombstone: the key was deleted at this sequence number.</summary>
    Delete = 1,

    /// <summary>A merge operand, combined with older versions by the merge operator (docs/design/compaction.md, "Merge operands").</summary>
    Merge = 2,

    /// <summary>
    /// A range delete, in WAL objects (format version 3) and memtables only: the key is the range's first key, the
    /// value its exclusive end. Never stored in an SST: a flush moves it into the manifest.
    /// </summary>
    RangeDelete = 3,
}
