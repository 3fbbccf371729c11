namespace SlateSharp;

/// <summary>
/// A snapshot of what a database has done since it opened (<see cref="Db.GetStats"/>): the figures an application
/// or a benchmark needs without wiring up a metrics pipeline. Counters only grow; gauges are as of the call.
/// </summary>
public sealed record DbStats
{
    /// <summary>The highest sequence number assigned to a write.</summary>
    public required ulong LastSequence { get; init; }

    /// <summary>The highest sequence number stored in a WAL object or an SST: every write at or below it survives a crash.</summary>
    public required ulong DurableSequence { get; init; }

    /// <summary>Bytes of writes held in memory (memtables and WAL objects being built or uploaded), bounded by <see cref="DbOptions.MaxUnflushedBytes"/>.</summary>
    public required long UnflushedBytes { get; init; }

    /// <summary>The WAL's part of <see cref="UnflushedBytes"/>: bytes appended but not yet stored, bounded by <see cref="DbOptions.MaxUnstoredWalBytes"/>.</summary>
    public long UnstoredWalBytes { get; init; }

    /// <summary>Frozen memtables waiting to be written to L0.</summary>
    public required int FrozenMemtables { get; init; }

    /// <summary>
    /// Bytes of flushed memtables' memory kept for the next memtables: a flushed memtable's 1 MiB chunks are reused once
    /// no read is on it, instead of freed and allocated again. At most <see cref="DbOptions.MaxUnflushedBytes"/> while
    /// frozen memtables wait to be flushed; once none does, at most what the active memtable can still take before it
    /// is full (<see cref="DbOptions.MemtableSizeBytes"/> less what it holds), in whole chunks. Memtable memory is native,
    /// outside the GC's heap, and what the pool does not keep goes back to the system at once.
    /// </summary>
    public long MemtablePoolBytes { get; init; }

    /// <summary>
    /// Native memory the memtables' rows take, with the pool's chunks (<see cref="MemtablePoolBytes"/>): outside the GC's
    /// heap, so it shows in the working set but not in the managed heap's size.
    /// </summary>
    public long MemtableMemoryBytes { get; init; }

    /// <summary>Memtable memory chunks (1 MiB each) reused from flushed memtables since the database opened.</summary>
    public long MemtableChunksReused { get; init; }

    /// <summary>
    /// Memtable memory chunks (1 MiB each) freed since the database opened, because the pool was at its limit
    /// (<see cref="MemtablePoolBytes"/>). Few in a long fill, or the fill keeps mapping fresh pages.
    /// </summary>
    public long MemtableChunksDropped { get; init; }

    /// <summary>L0 SSTs in the manifest the writer holds.</summary>
    public required int L0Ssts { get; init; }

    /// <summary>Sorted runs in the manifest the writer holds.</summary>
    public required int SortedRuns { get; init; }

    /// <summary>Bytes of the L0 SSTs in the manifest the writer holds.</summary>
    public required long L0Bytes { get; init; }

    /// <summary>Bytes of each sorted run in the manifest the writer holds, in its order (newest first).</summary>
    public required IReadOnlyList<long> SortedRunBytes { get; init; }

    /// <summary>The id of the manifest the writer holds.</summary>
    public required ulong ManifestId { get; init; }

    /// <summary>Manifest writes that lost a compare-and-swap to another process (the compactor, say) and were re-applied.</summary>
    public required long ManifestConflicts { get; init; }

    /// <summary>Times a write waited because unflushed bytes reached <see cref="DbOptions.MaxUnflushedBytes"/>.</summary>
    public required long WriterStalls { get; init; }

    /// <summary>Time the memtable flusher waited because L0 held <see cref="DbOptions.L0MaxSsts"/> SSTs.</summary>
    public required TimeSpan L0StallTime { get; init; }

    /// <summary>WAL objects stored by this writer.</summary>
    public required long WalObjectsWritten { get; init; }

    /// <summary>Bytes of the WAL objects stored by this writer.</summary>
    public required long WalBytesWritten { get; init; }

    /// <summary>Memtables written to L0 as SSTs.</summary>
    public required long MemtableFlushes { get; init; }

    /// <summary>Bytes of the L0 SSTs written by memtable flushes.</summary>
    public required long MemtableFlushBytes { get; init; }

    /// <summary>Block reads served from the in-memory block cache.</summary>
    public required long BlockCacheHits { get; init; }

    /// <summary>Block reads that went to the store (or the disk cache).</summary>
    public required long BlockCacheMisses { get; init; }

    /// <summary>What the embedded compactor has done; null when compaction runs elsewhere or is off.</summary>
    public CompactionStats? Compaction { get; init; }

    /// <summary>The local disk cache of SST bytes (<see cref="DbOptions.DiskCache"/>); null when there is none.</summary>
    public DiskCacheStats? DiskCache { get; init; }

    /// <summary>Object-store requests this database made, by kind (reads the disk cache served are not among them).</summary>
    public required ObjectStoreStats Requests { get; init; }
}

/// <summary>Object-store requests by kind, failures among them, and bytes up and down.</summary>
/// <param name="Gets">GET requests (whole or ranged reads).</param>
/// <param name="Puts">PUT requests (plain and conditional creates and replaces).</param>
/// <param name="Lists">LIST requests.</param>
/// <param name="Deletes">DELETE requests.</param>
/// <param name="Heads">HEAD requests.</param>
/// <param name="Failures">Requests of any kind that failed.</param>
/// <param name="BytesRead">Bytes downloaded.</param>
/// <param name="BytesWritten">Bytes uploaded.</param>
public sealed record ObjectStoreStats(long Gets, long Puts, long Lists, long Deletes, long Heads, long Failures, long BytesRead, long BytesWritten)
{
    /// <summary>Every request of every kind.</summary>
    public long Total => Gets + Puts + Lists + Deletes + Heads;
}
