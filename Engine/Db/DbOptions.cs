using Microsoft.Extensions.Logging;
using SlateSharp.Storage;

namespace SlateSharp;

/// <summary>How a <see cref="Db"/> writes, flushes, caches and bounds its memory. Invalid values fail at open.</summary>
public sealed class DbOptions
{
    /// <summary>
    /// The longest a write acknowledged from the memtable (<see cref="WriteOptions.NoWait"/>) waits before its WAL
    /// object is uploaded. A write that awaits durability does not wait for it: its upload starts at once, or right
    /// after the one in flight, carrying every write that arrived meanwhile (group commit). Default 100 ms.
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// An optional cap on WAL uploads per second: durable writes then wait up to 1/rate for the next upload and share
    /// it, which bounds the PUT requests (and the bill) of a busy database on S3 or GCS at the cost of latency.
    /// Null (the default) uploads as soon as a durable writer waits.
    /// </summary>
    public int? MaxWalUploadsPerSecond { get; init; }

    /// <summary>
    /// The largest WAL object: a write that would take the buffered object past it starts the next one, and the full
    /// one is uploaded before the interval ends. Only a single batch larger than this gets a larger object, alone.
    /// Default (null): 4 MiB on an object store, where fewer objects mean fewer PUTs; 1 MiB on the local store, where
    /// an object costs no request and a smaller one holds less memory (three buffers of this size can be alive at once:
    /// the open object, the one being stored, and the spare the next one starts in).
    /// </summary>
    public long? WalObjectMaxBytes { get; init; }

    /// <summary>A memtable freezes at this size and becomes one L0 SST. Default 64 MiB.</summary>
    public long MemtableSizeBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Memory for writes not yet in L0 (memtables and unsent WAL bytes). Writers wait when it is reached, so memory
    /// stays bounded however much is written. Default 1 GiB; at least <see cref="MemtableSizeBytes"/>.
    /// </summary>
    public long MaxUnflushedBytes { get; init; } = 1L << 30;

    /// <summary>
    /// The part of <see cref="MaxUnflushedBytes"/> that WAL bytes not yet stored may take: writers wait when it is
    /// reached, so a WAL that falls behind (a slow disk or store) holds at most this much in WAL buffers, and at most this
    /// much of what was acknowledged from the memtable (<see cref="WriteOptions.AwaitDurable"/> false) is lost in a
    /// crash. Without it the WAL could take the whole budget while memtables flush, and then memtables the whole
    /// budget while the WAL buffers' memory is still held by the runtime, so the process would use the budget
    /// twice over. Default (null): an eighth of <see cref="MaxUnflushedBytes"/>, and at least four WAL objects.
    /// </summary>
    public long? MaxUnstoredWalBytes { get; init; }

    /// <summary>
    /// The flusher stops adding L0 SSTs at this count until compaction takes some away; writers then wait (never fail)
    /// on <see cref="MaxUnflushedBytes"/> and resume when compaction catches up. Every read of an old key probes each
    /// L0 SST's bloom filter, so a small limit keeps reads cheap. Default 8 (as SlateDB). Without any compactor
    /// (<see cref="CompactionOptions.Enabled"/> false and none in another process) writes stall here for good.
    /// </summary>
    public int L0MaxSsts { get; init; } = 8;

    /// <summary>How L0 and sorted runs are compacted, and whether this process does it. Default: embedded, size-tiered.</summary>
    public CompactionOptions Compaction { get; init; } = new();

    /// <summary>
    /// How often the writer reads the manifest for changes made by others (a compactor in another process) and learns
    /// that a newer writer fenced it. A GET and a HEAD per interval when nothing changed. Default 1 s.
    /// </summary>
    public TimeSpan ManifestPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Combines the operands of <see cref="Db.MergeAsync"/> with the value below them, in reads, scans, memtable
    /// flushes and compaction (a <see cref="DbCompactor"/> opened with these options too). Null (the default): merges
    /// are refused with <see cref="ErrorKind.Invalid"/>, and a read that meets operands stored earlier fails the same
    /// way. Every process that opens the database must use the same operator (<see cref="IMergeOperator"/>).
    /// </summary>
    public IMergeOperator? MergeOperator { get; init; }

    /// <summary>SST data block size. Default 4 KiB.</summary>
    public int BlockSizeBytes { get; init; } = 4096;

    /// <summary>Block compression for new SSTs. Default none.</summary>
    public CompressionCodec Compression { get; init; } = CompressionCodec.None;

    /// <summary>Bloom filter bits per key in new SSTs (0 disables filters). Default 10 (about 1% false positives).</summary>
    public int BloomBitsPerKey { get; init; } = 10;

    /// <summary>Capacity of the block cache. Default 64 MiB.</summary>
    public long BlockCacheBytes { get; init; } = 64L << 20;

    /// <summary>
    /// A bounded cache of SST bytes on a local disk, between the block cache and the object store: a block read that
    /// misses memory is served from the disk when its chunk was read before, in this process or an earlier one,
    /// instead of costing a GET. See docs/usage.md, "Disk cache". Default null (no disk cache).
    /// </summary>
    public DiskCacheOptions? DiskCache { get; init; }

    /// <summary>
    /// Memory for open SSTs' indexes and bloom filters (about 1.5 MiB per 64 MiB SST with the defaults). Beyond it the
    /// least recently used SSTs are closed; reading one again reopens it with one or two ranged reads. Default 256 MiB.
    /// </summary>
    public long SstReaderCacheBytes { get; init; } = 256L << 20;

    /// <summary>How long a manifest claim or update may keep retrying after lost races. Default 1 minute.</summary>
    public TimeSpan ManifestUpdateTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a WAL upload, a WAL fence or an SST upload keeps retrying a store that fails transiently or whose
    /// answer was lost, before the database stops with an <see cref="ErrorKind.Unavailable"/> cause (writes waiting for durability then
    /// fail; none is acknowledged on a guess). Default 1 minute. Stores opened from a URL also retry each request
    /// (<see cref="ObjectStoreOptions.Retry"/>) underneath.
    /// </summary>
    public TimeSpan WriteRetryTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Opens a database whose newest WAL objects are corrupt (torn or truncated by a storage failure) by skipping
    /// them, instead of failing with a Data error that names them. Only corrupt objects with no WAL object holding
    /// writes after them are skipped; the writes they held are lost, and <see cref="Db.Recovery"/> lists each one
    /// skipped (path, size, reason). The skip is made permanent at open (the replayed rows are flushed to L0), so the
    /// option is needed once. Default false.
    /// </summary>
    public bool SkipCorruptWalTail { get; init; }

    /// <summary>
    /// Garbage collection in this process: <see cref="GcOptions.Interval"/> set runs it in the background, and
    /// <see cref="Db.RunGarbageCollectionAsync"/> uses these options when given none. Default null (no background
    /// collection; on demand with the <see cref="GcOptions"/> defaults).
    /// </summary>
    public GcOptions? GarbageCollection { get; init; }

    /// <summary>Options for opening the store from a URL.</summary>
    public ObjectStoreOptions? ObjectStore { get; init; }

    /// <summary>The clock for intervals and ids. Default the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Seeds the engine's randomness (SST ids, memtable levels) for reproducible runs; null draws a seed.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>Where the database logs; nothing is logged by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The default of <see cref="WalObjectMaxBytes"/> for a database on <paramref name="store"/>.</summary>
    internal static long DefaultWalObjectMaxBytes(IObjectStore store) =>
        StagedPuts.PreparesAhead(store) ? LocalWalObjectMaxBytes : ObjectStoreWalObjectMaxBytes;

    internal const long ObjectStoreWalObjectMaxBytes = 4L << 20;

    internal const long LocalWalObjectMaxBytes = 1L << 20;

    /// <summary>The bound <see cref="MaxUnstoredWalBytes"/> sets, with its default applied, for WAL objects of <paramref name="walObjectMaxBytes"/>.</summary>
    internal long UnstoredWalLimit(long walObjectMaxBytes) =>
        MaxUnstoredWalBytes ?? Math.Min(MaxUnflushedBytes, Math.Max(MaxUnflushedBytes / 8, 4 * walObjectMaxBytes));

    internal void Validate()
    {
        Require(FlushInterval > TimeSpan.Zero, $"FlushInterval must be positive (flush_interval={FlushInterval})");
        Require(MaxWalUploadsPerSecond is null or >= 1 and <= 100_000, $"MaxWalUploadsPerSecond must be between 1 and 100000 when set (max_wal_uploads_per_second={MaxWalUploadsPerSecond})");
        Require(WalObjectMaxBytes is null or (>= 1024 and <= 1L << 30), $"WalObjectMaxBytes must be between 1 KiB and 1 GiB (wal_object_max_bytes={WalObjectMaxBytes})");
        Require(MemtableSizeBytes is >= 4096 and <= 4L << 30, $"MemtableSizeBytes must be between 4 KiB and 4 GiB (memtable_size_bytes={MemtableSizeBytes})");
        Require(MaxUnstoredWalBytes is null || (MaxUnstoredWalBytes >= 1024 && MaxUnstoredWalBytes <= MaxUnflushedBytes), $"MaxUnstoredWalBytes must be between 1 KiB and MaxUnflushedBytes (max_unstored_wal_bytes={MaxUnstoredWalBytes} max_unflushed_bytes={MaxUnflushedBytes})");
        Require(MaxUnflushedBytes >= MemtableSizeBytes, $"MaxUnflushedBytes must be at least MemtableSizeBytes (max_unflushed_bytes={MaxUnflushedBytes} memtable_size_bytes={MemtableSizeBytes})");
        Require(L0MaxSsts >= 1, $"L0MaxSsts must be at least 1 (l0_max_ssts={L0MaxSsts})");
        Require(BlockSizeBytes is >= Sst.SstBuilderOptions.MinBlockSize and <= Sst.SstBuilderOptions.MaxBlockSize, $"BlockSizeBytes must be between {Sst.SstBuilderOptions.MinBlockSize} and {Sst.SstBuilderOptions.MaxBlockSize} (block_size_bytes={BlockSizeBytes})");
        Require(Enum.IsDefined(Compression), $"unknown Compression (compression={Compression})");
        Require(BloomBitsPerKey is >= 0 and <= 32, $"BloomBitsPerKey must be between 0 and 32 (bloom_bits_per_key={BloomBitsPerKey})");
        Require(SstReaderCacheBytes >= 0, $"SstReaderCacheBytes must not be negative (sst_reader_cache_bytes={SstReaderCacheBytes})");
        Require(BlockCacheBytes >= 0, $"BlockCacheBytes must not be negative (block_cache_bytes={BlockCacheBytes})");
        Require(WriteRetryTimeout > TimeSpan.Zero, $"WriteRetryTimeout must be positive (write_retry_timeout={WriteRetryTimeout})");
        Require(ManifestUpdateTimeout > TimeSpan.Zero, $"ManifestUpdateTimeout must be positive (manifest_update_timeout={ManifestUpdateTimeout})");
        Require(TimeProvider is not null, "TimeProvider must not be null");
        Require(ManifestPollInterval > TimeSpan.Zero, $"ManifestPollInterval must be positive (manifest_poll_interval={ManifestPollInterval})");
        (Compaction ?? throw Errors.Invalid("invalid options: Compaction must not be null")).Validate();
        GarbageCollection?.Validate();
        DiskCache?.Validate("options");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw Errors.Invalid("invalid options: " + message);
        }
    }
}
