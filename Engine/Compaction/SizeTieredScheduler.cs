using SlateSharp.Manifest;

namespace SlateSharp.Compaction;

/// <summary>
/// Size-tiered compaction. First L0: once <see cref="CompactionOptions.MinSourcesPerJob"/> L0 SSTs wait, the oldest
/// (up to the maximum) become a new sorted run, the newest run (id one above the highest). Otherwise sorted runs:
/// walking from the newest, a group of consecutive runs grows while the next (older) run is at most
/// <see cref="CompactionOptions.SizeRatio"/> times the group's total size; the first group with enough runs is merged
/// into one run that keeps the group's newest id. Sources are always consecutive in age, so the output fits exactly
/// where they were.
/// </summary>
internal sealed class SizeTieredScheduler(CompactionOptions options) : ICompactionScheduler
{
    public CompactionJob? Pick(DbManifest manifest)
    {
        var l0 = manifest.L0;
        if (l0.Count >= options.MinSourcesPerJob)
        {
            // L0 is newest first: the oldest SSTs are at the end, and the new run is newer than every existing run.
            var take = Math.Min(l0.Count, options.MaxSourcesPerJob);
            var sources = l0.Skip(l0.Count - take).Select(CompactionSource.Of).ToList();
            var id = manifest.SortedRuns.Count == 0 ? 1 : checked(manifest.SortedRuns[0].Id + 1);
            return new CompactionJob(sources, id, Bottom: manifest.SortedRuns.Count == 0);
        }

        var runs = manifest.SortedRuns;
        for (var start = 0; start + options.MinSourcesPerJob <= runs.Count; start++)
        {
            var total = Size(runs[start]);
            var end = start + 1;
            while (end < runs.Count && end - start < options.MaxSourcesPerJob && Size(runs[end]) <= options.SizeRatio * total)
            {
                total += Size(runs[end]);
                end++;
            }

            if (end - start >= options.MinSourcesPerJob)
            {
                var sources = runs.Skip(start).Take(end - start).Select(CompactionSource.Of).ToList();
                return new CompactionJob(sources, runs[start].Id, Bottom: end == runs.Count);
            }
        }

        return null;
    }

    private static long Size(SortedRun run) => run.Ssts.Sum(s => s.Size);
}
