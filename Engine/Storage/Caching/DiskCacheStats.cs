namespace SlateSharp;

/// <summary>
/// A snapshot of a disk cache's counters since it was opened (see <see cref="DbOptions.DiskCache"/>, <see cref="Db.DiskCacheStats"/>). Hits and misses
/// count chunks: a read that spans two chunks counts two.
/// </summary>
/// <param name="Hits">Chunks served from the disk.</param>
/// <param name="Misses">Chunks fetched from the object store because the disk did not have them.</param>
/// <param name="BytesServed">Chunk bytes read from the disk for hits.</param>
/// <param name="BytesFetched">Bytes the cache fetched from the object store for misses.</param>
/// <param name="Evictions">Chunks deleted to stay under the bound.</param>
/// <param name="CurrentBytes">Bytes of the chunk files held now.</param>
/// <param name="CurrentChunks">Chunk files held now.</param>
/// <param name="Corrupt">Chunk files found torn or corrupt on read (deleted and treated as misses).</param>
/// <param name="DiskErrors">Failed reads or writes of the cache directory (the read then went to the object store).</param>
/// <param name="PassedThrough">Reads of SSTs passed to the object store unchanged: long scans (compaction) not fully on disk.</param>
/// <param name="Enabled">False when the directory could not be used at open: every read then goes to the object store.</param>
public sealed record DiskCacheStats(
    long Hits,
    long Misses,
    long BytesServed,
    long BytesFetched,
    long Evictions,
    long CurrentBytes,
    long CurrentChunks,
    long Corrupt,
    long DiskErrors,
    long PassedThrough,
    bool Enabled);
