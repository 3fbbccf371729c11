using Microsoft.Extensions.Logging;
using SlateSharp.Storage;

namespace SlateSharp;

/// <summary>How a <see cref="DbReader"/> follows the database, caches and protects what it reads. Invalid values fail at open.</summary>
public sealed class DbReaderOptions
{
    /// <summary>How often the reader looks for a newer manifest and new WAL objects. Default 1 second.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Open the frozen view of this checkpoint (see <see cref="Db.CreateCheckpointAsync"/>) instead of following the
    /// latest state: no WAL replay, no polling. Opening fails with <see cref="ErrorKind.Invalid"/> when the checkpoint
    /// does not exist or has expired. Default null (follow the latest state).
    /// </summary>
    public Guid? CheckpointId { get; init; }

    /// <summary>
    /// Whether the reader keeps a lease (<c>leases/{id}.lease</c>) that tells garbage collection in other processes
    /// which manifest it still reads, renewed every third of <see cref="LeaseLifetime"/> and deleted on dispose. The
    /// lease is the only object a reader ever writes; turn it off on read-only media (the reader then writes nothing,
    /// and what it reads is protected only by the collector's minimum ages). Default true.
    /// </summary>
    public bool UseLease { get; init; } = true;

    /// <summary>How long a lease protects after its last renewal: a reader that dies stops protecting anything after it. Default 5 minutes.</summary>
    public TimeSpan LeaseLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Capacity of the block cache. Default 64 MiB.</summary>
    public long BlockCacheBytes { get; init; } = 64L << 20;

    /// <summary>Memory for open SSTs' indexes and bloom filters; see <see cref="DbOptions.SstReaderCacheBytes"/>. Default 256 MiB.</summary>
    public long SstReaderCacheBytes { get; init; } = 256L << 20;

    /// <summary>A bounded cache of SST bytes on a local disk; see <see cref="DbOptions.DiskCache"/>. Default null (none).</summary>
    public DiskCacheOptions? DiskCache { get; init; }

    /// <summary>
    /// Options for opening the store from a URL. Whatever <see cref="ObjectStoreOptions.ReadOnly"/> says, the store is
    /// opened without a commit strategy (no probes): read-only, or for overwrites only when <see cref="UseLease"/> is set.
    /// </summary>
    public ObjectStoreOptions? ObjectStore { get; init; }

    /// <summary>The writer's <see cref="DbOptions.MergeOperator"/>; without it a read of a key that holds merge operands fails with <see cref="ErrorKind.Invalid"/>.</summary>
    public IMergeOperator? MergeOperator { get; init; }

    /// <summary>The clock for polling, lease renewal and checkpoint expiry. Default the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Seeds the reader's randomness (its lease id, memtable levels) for reproducible runs; null draws a seed.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>Where the reader logs; nothing is logged by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal void Validate()
    {
        Require(PollInterval > TimeSpan.Zero, $"PollInterval must be positive (poll_interval={PollInterval})");
        Require(LeaseLifetime >= TimeSpan.FromSeconds(3), $"LeaseLifetime must be at least 3 seconds (lease_lifetime={LeaseLifetime})");
        Require(BlockCacheBytes >= 0, $"BlockCacheBytes must not be negative (block_cache_bytes={BlockCacheBytes})");
        Require(SstReaderCacheBytes >= 0, $"SstReaderCacheBytes must not be negative (sst_reader_cache_bytes={SstReaderCacheBytes})");
        Require(TimeProvider is not null, "TimeProvider must not be null");
        DiskCache?.Validate("reader options");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw Errors.Invalid("invalid reader options: " + message);
        }
    }
}
