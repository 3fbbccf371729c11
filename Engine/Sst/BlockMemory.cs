namespace SlateSharp.Sst;

/// <summary>Where a decoded block's rows live: in the bytes it was read into, or in an array of its own.</summary>
internal enum BlockMemory
{
    /// <summary>An uncompressed block aliases the stored bytes (the caller does not reuse them).</summary>
    Alias,

    /// <summary>
    /// An array of its own on the ordinary heap: the caller reuses the buffer it read into, and the block lives briefly
    /// (a compaction reads each block once).
    /// </summary>
    Copy,

    /// <summary>
    /// An array of its own on the pinned object heap, which the collector treats as old from the start: for blocks
    /// bound for the block cache. An ordinary array would be copied from generation 0 to 1 to 2 while the cache holds
    /// it, and a stream of cache misses made those promotions most of a get's garbage-collection cost.
    /// </summary>
    LongLived,
}
