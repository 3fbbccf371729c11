using System.Text;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Read;

/// <summary>
/// A scan opens the SSTs of a sorted run only as its walk reaches them: a limited scan from the middle of a large run,
/// forwards or backwards, opens the one or two SSTs its rows come from, not every SST its range overlaps.
/// </summary>
public sealed class LazyScanTests
{
    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key-{i:D5}");

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_limited_scan_opens_only_the_run_ssts_it_reads(bool reverse)
    {
        var seed = TestSeeds.Get(601);
        var inner = new InMemoryObjectStore();
        var options = DbModelRun.SmallOptions(seed, compaction: false);
        await using (var db = await SlateSharp.Db.OpenAsync(inner, "", options))
        {
            for (var flush = 0; flush < 4; flush++)
            {
                for (var i = flush; i < 2000; i += 4)
                {
                    await db.PutAsync(Key(i), new byte[100], WriteOptions.NoWait);
                }

                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            }

            // Merges runs two at a time whatever their sizes, so however the flushes were cut the compactor ends with one run of many SSTs.
            var mergeAll = new DbOptions
            {
                BlockSizeBytes = options.BlockSizeBytes,
                Compaction = new CompactionOptions { TargetSstBytes = 8 << 10, MinSourcesPerJob = 2, SizeRatio = 1_000, ReadaheadBytes = 4096 },
            };
            await using var compactor = await DbCompactor.OpenAsync(inner, "", mergeAll);
            for (var jobs = 0; jobs < 50 && await compactor.RunOnceAsync(); jobs++)
            {
            }
        }

        var counting = new CountingObjectStore(inner);
        await using var reopened = await SlateSharp.Db.OpenAsync(counting, "", options);
        var manifest = reopened.ViewManifest;
        Assert.That(manifest.L0, Is.Empty);
        var run = manifest.SortedRuns.Single().Ssts;
        Assert.That(run, Has.Count.GreaterThan(10), "a run of many SSTs");

        counting.Reset();
        var range = reverse ? KeyRange.Until(Key(1000)) : KeyRange.From(Key(1000));
        var rows = await reopened.ScanAsync(range, new ScanOptions { Reverse = reverse, Limit = 5 }).ToListAsync();
        var expectedKeys = Enumerable.Range(reverse ? 995 : 1000, 5).Select(i => Encoding.ASCII.GetString(Key(i)));
        Assert.That(rows.Select(kv => Encoding.ASCII.GetString(kv.Key.Span)), Is.EqualTo(reverse ? expectedKeys.Reverse() : expectedKeys));

        // The SSTs holding the rows returned, plus at most the neighbour a merge step looks into at an SST's edge.
        var holding = rows.Select(kv => run.Single(s => Covers(s, kv.Key.Span)).Id).Distinct().ToList();
        List<string> opened;
        lock (counting.Requests)
        {
            opened = counting.Requests.Select(r => r.Path.Value).Where(p => p.StartsWith(SstPaths.Prefix, StringComparison.Ordinal)).Distinct().ToList();
        }

        TestContext.Out.WriteLine($"run ssts={run.Count} overlapping={run.Count(s => range.Overlaps(s.FirstKey, s.LastKey))} opened={opened.Count}");
        Assert.That(opened, Is.SupersetOf(holding.Select(id => SstPaths.PathOf(id).Value)));
        Assert.That(opened.Count, Is.LessThanOrEqualTo(holding.Count + 1));
        Assert.That(run.Count(s => range.Overlaps(s.FirstKey, s.LastKey)), Is.GreaterThan(opened.Count + 3), "opening every overlapping SST would have opened many more");
    }

    private static bool Covers(SstHandle sst, ReadOnlySpan<byte> key) =>
        key.SequenceCompareTo(sst.FirstKey) >= 0 && key.SequenceCompareTo(sst.LastKey) <= 0;
}
