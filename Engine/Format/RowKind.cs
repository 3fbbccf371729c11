namespace SlateSharp.Format;

/// <summary>What a row means. Stored in the low two bits of a row's flags byte (docs/format/sst.md).</summary>
internal enum RowKind : byte
{
    /// <summary>The key has this value.</summary>
    Put = 0,

    /// <summary>A tombstone: the key was deleted at this sequence number.</summary>
    Delete = 1,

    /// <summary>A merge operand to combine with older values (reserved; the merge operator comes later).</summary>
    Merge = 2,
}
