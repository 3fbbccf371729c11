using SlateSharp.Compaction;
using SlateSharp.Manifest;

namespace SlateSharp.Tests.Compaction;

/// <summary>The size-tiered policy: oldest L0 SSTs into a new newest run; consecutive runs of similar size merged.</summary>
public sealed class SizeTieredSchedulerTests
{
    private static readonly CompactionOptions Options = new() { MinSourcesPerJob = 3, MaxSourcesPerJob = 4, SizeRatio = 2 };
    private int _next;

    [Test]
    public void Nothing_is_due_below_the_minimum()
    {
        var manifest = DbManifest.Empty with { L0 = [Sst(10), Sst(10)], SortedRuns = [Run(5, 100), Run(4, 100)] };
        Assert.That(new SizeTieredScheduler(Options).Pick(manifest), Is.Null);
    }

    [Test]
    public void The_oldest_l0_ssts_become_a_run_newer_than_every_run()
    {
        var l0 = Enumerable.Range(0, 6).Select(_ => Sst(10)).ToList();
        var manifest = DbManifest.Empty with { L0 = l0, SortedRuns = [Run(7, 1000)] };
        var job = new SizeTieredScheduler(Options).Pick(manifest)!;
        Assert.That(job.Sources.Select(s => s.L0!.Id), Is.EqualTo(l0.Skip(2).Select(h => h.Id)), "the four oldest, newest first");
        Assert.That(job.OutputRunId, Is.EqualTo(8u));
        Assert.That(job.Bottom, Is.False, "an older run lies below");

        var first = new SizeTieredScheduler(Options).Pick(DbManifest.Empty with { L0 = l0 })!;
        Assert.That((first.OutputRunId, first.Bottom), Is.EqualTo((1u, true)));
    }

    [Test]
    public void Consecutive_runs_of_similar_size_merge_into_the_newest_id_and_a_large_old_run_waits()
    {
        // Newest first: 10, 12, 25 group (each at most twice the group so far); 500 is too large to join.
        var runs = new[] { Run(9, 10), Run(8, 12), Run(7, 25), Run(3, 500) };
        var job = new SizeTieredScheduler(Options).Pick(DbManifest.Empty with { SortedRuns = runs })!;
        Assert.That(job.Sources.Select(s => s.Run!.Id), Is.EqualTo(new uint[] { 9, 8, 7 }));
        Assert.That((job.OutputRunId, job.Bottom), Is.EqualTo((9u, false)));

        var bottom = new SizeTieredScheduler(Options).Pick(DbManifest.Empty with { SortedRuns = [Run(3, 100), Run(2, 100), Run(1, 100)] })!;
        Assert.That((bottom.OutputRunId, bottom.Bottom), Is.EqualTo((3u, true)));
    }

    private SstHandle Sst(long size)
    {
        var n = ++_next;
        return new SstHandle(SstId.Create(1_000 + n, new byte[10]), size, [(byte)'a'], [(byte)'z'], 1);
    }

    private SortedRun Run(uint id, long size) => new(id, [Sst(size)]);
}
