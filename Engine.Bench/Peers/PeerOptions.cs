namespace SlateSharp.Bench.Peers;

/// <summary>The settings every engine is opened with, so that they are configured alike (docs/benchmarks.md, "Side-by-side").</summary>
internal sealed record PeerOptions
{
    /// <summary>A directory of the engine's own, created by the caller.</summary>
    public required string Directory { get; init; }

    /// <summary>
    /// False: a write is acknowledged once the engine has it in memory and its log write is under way, without waiting
    /// for fsync. True: a write returns once it would survive a crash of the machine.
    /// </summary>
    public bool Durable { get; init; }

    /// <summary>Block cache (or page cache) size for engines that have one. Default 64 MiB, SlateSharp's default.</summary>
    public long CacheBytes { get; init; } = 64L << 20;

    /// <summary>SlateSharp only: <see cref="DbOptions.MaxUnflushedBytes"/>, memory for writes not yet in L0. Default 1 GiB, its default.</summary>
    public long MaxUnflushedBytes { get; init; } = 1L << 30;

    /// <summary>SQLite only: rows per transaction in acknowledged mode (one transaction per put when durable).</summary>
    public int SqliteRowsPerTransaction { get; init; } = 1000;
}
