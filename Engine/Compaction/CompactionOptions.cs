namespace SlateSharp;

/// <summary>
/// How compaction merges L0 SSTs and sorted runs (docs/design/compaction.md). The defaults suit a database written
/// at tens of MB/s on one to eight cores; invalid values fail at open.
/// </summary>
public sealed class CompactionOptions
{
    /// <summary>
    /// Run the compactor inside the writer's process (default). Set false when a separate compactor process
    /// (<see cref="DbCompactor"/>, or <c>Engine.Bench -- compactor --url URL</c>) compacts this database; without
    /// any compactor, writes stall once L0 holds <see cref="DbOptions.L0MaxSsts"/> SSTs.
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>A job starts once this many sources (L0 SSTs, or sorted runs of similar size) are waiting. Default 4.</summary>
    public int MinSourcesPerJob { get; init; } = 4;

    /// <summary>At most this many sources go into one job. Default 8.</summary>
    public int MaxSourcesPerJob { get; init; } = 8;

    /// <summary>
    /// Size-tiered grouping: a sorted run joins a group of newer runs when it is at most this many times their total
    /// size, so runs of similar size merge and a large old run is rewritten rarely. Default 4.
    /// </summary>
    public double SizeRatio { get; init; } = 4.0;

    /// <summary>Output SSTs are cut at the first key boundary after this size. Default 64 MiB.</summary>
    public long TargetSstBytes { get; init; } = 64L << 20;

    /// <summary>Key ranges of one job compacted in parallel. Default the processor count, at most 8.</summary>
    public int MaxSubcompactions { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>How often an idle compactor looks at the manifest for work (it also wakes on every flush in process). Default 1 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Bytes of consecutive blocks read per ranged GET from each input SST. Default 1 MiB.</summary>
    public int ReadaheadBytes { get; init; } = 1 << 20;

    internal void Validate()
    {
        Require(MinSourcesPerJob >= 2, $"MinSourcesPerJob must be at least 2 (min_sources_per_job={MinSourcesPerJob})");
        Require(MaxSourcesPerJob >= MinSourcesPerJob, $"MaxSourcesPerJob must be at least MinSourcesPerJob (max_sources_per_job={MaxSourcesPerJob} min_sources_per_job={MinSourcesPerJob})");
        Require(SizeRatio >= 1 && double.IsFinite(SizeRatio), $"SizeRatio must be at least 1 (size_ratio={SizeRatio})");
        Require(TargetSstBytes >= 4096, $"TargetSstBytes must be at least 4 KiB (target_sst_bytes={TargetSstBytes})");
        Require(MaxSubcompactions is >= 1 and <= 64, $"MaxSubcompactions must be between 1 and 64 (max_subcompactions={MaxSubcompactions})");
        Require(PollInterval > TimeSpan.Zero, $"PollInterval must be positive (poll_interval={PollInterval})");
        Require(ReadaheadBytes is >= 4096 and <= 64 << 20, $"ReadaheadBytes must be between 4 KiB and 64 MiB (readahead_bytes={ReadaheadBytes})");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw Errors.Invalid("invalid compaction options: " + message);
        }
    }
}
