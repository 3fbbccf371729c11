using SlateSharp.Manifest;

namespace SlateSharp.Compaction;

/// <summary>One input of a compaction: a single L0 SST, or a whole sorted run.</summary>
internal sealed record CompactionSource
{
    private CompactionSource(SstHandle? l0, SortedRun? run)
    {
        L0 = l0;
        Run = run;
    }

    public SstHandle? L0 { get; }

    public SortedRun? Run { get; }

    /// <summary>The source's SSTs in key order.</summary>
    public IReadOnlyList<SstHandle> Ssts => L0 is { } sst ? [sst] : Run!.Ssts;

    public long SizeBytes => Ssts.Sum(s => s.Size);

    public static CompactionSource Of(SstHandle l0) => new(l0, null);

    public static CompactionSource Of(SortedRun run) => new(null, run);

    public override string ToString() => L0 is { } sst ? $"l0:{sst.Id}" : $"run:{Run!.Id}";
}

/// <summary>
/// A compaction: merge <see cref="Sources"/> (newest first, consecutive in age) into sorted run
/// <see cref="OutputRunId"/>, which takes their place among the runs. <see cref="Bottom"/> when nothing older than
/// the sources exists, so tombstones may go.
/// </summary>
internal sealed record CompactionJob(IReadOnlyList<CompactionSource> Sources, uint OutputRunId, bool Bottom)
{
    /// <summary>
    /// The manifest the job was picked from: its range deletes are applied to the rows, and those the job leaves
    /// nothing below are dropped from the manifest with it (docs/design/range-deletes.md). Null: no range deletes.
    /// </summary>
    public DbManifest? PickedFrom { get; init; }

    public IReadOnlyList<RangeTombstone> RangeTombstones => PickedFrom?.RangeTombstones ?? [];

    public long InputBytes => Sources.Sum(s => s.SizeBytes);

    public IEnumerable<SstId> InputIds => Sources.SelectMany(s => s.Ssts).Select(h => h.Id);

    public override string ToString() =>
        $"{Sources.Count} sources ({string.Join(", ", Sources)}) into run {OutputRunId}{(Bottom ? " (bottom)" : "")}, {InputBytes} bytes";
}
