using System.Collections.Concurrent;
using System.Text;
using SlateSharp.Common;
using SlateSharp.Manifest;
using SlateSharp.Storage;
using SlateSharp.Storage.S3;
using SlateSharp.Tests.Gc;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// A compactor in its own process (<see cref="CompactorChild"/>) SIGKILLed again and again, at the compaction crash
/// points (outputs written but not published; published) and at random moments, while a writer in this process writes
/// durable puts without pause (and itself crashes and reopens now and then), a <see cref="DbReader"/> follows and a
/// garbage collector with short ages runs, on the
/// local disk and on RGW: every acknowledged write reads back after the writer's close and a reopen, the reader only
/// shows written values, and once a last compactor has finished and GC has run, the store holds exactly the SSTs the
/// manifest references (the killed jobs' outputs were orphans, and are gone).
/// </summary>
public sealed class CompactorKillTests
{
    [TestCase("local")]
    [TestCase("s3-rgw")]
    public async Task A_separate_compactor_killed_mid_job_loses_nothing_and_its_orphans_are_collected(string storeName)
    {
        var seed = TestSeeds.Get(81);
        var random = new Random(seed);
        CrashStore crashStore = storeName == "local" ? new DirectoryCrashStore("local", null, null) : new S3CrashStore();
        try
        {
            await RunAsync(crashStore, seed, random);
        }
        finally
        {
            await crashStore.DisposeAsync();
        }
    }

    private static async Task RunAsync(CrashStore crashStore, int seed, Random random)
    {
        var url = crashStore.Url("compactor-kill");
        var s3Endpoint = crashStore.S3Endpoint;
        var options = CompactorChild.Options(seed, s3Endpoint is null ? null : new ObjectStoreOptions { S3 = new S3StoreOptions { Endpoint = s3Endpoint, Credentials = CloudStores.S3Credentials } });
        var acked = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var db = await SlateSharp.Db.OpenAsync(url, options);
        using var stop = new CancellationTokenSource();
        var crashes = 0;
        var writer = Task.Run(async () =>
        {
            var keys = new Random(seed + 1);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                if (n > 0 && n % 50 == 0)
                {
                    // The writer crashes too (memtable dropped, nothing flushed) and a new one takes over.
                    await db.SimulateCrashAsync();
                    db = await SlateSharp.Db.OpenAsync(url, options);
                    crashes++;
                }

                var key = $"key-{keys.Next(300):D3}";
                var value = $"{key}#{n}-" + new string('v', keys.Next(20, 120));
                await db.PutAsync(Encoding.ASCII.GetBytes(key), Encoding.ASCII.GetBytes(value));
                acked[key] = value;
            }
        });

        var gc = new GcOptions { SstMinAge = TimeSpan.FromSeconds(3), ManifestMinAge = TimeSpan.FromMilliseconds(500), ManifestsKept = 2, WalMinAge = TimeSpan.FromMilliseconds(500), FenceMinAge = TimeSpan.FromMilliseconds(500) };
        var storeOptions = options.ObjectStore ?? new ObjectStoreOptions();
        var collector = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await DbGarbageCollector.RunOnceAsync(url, gc, storeOptions);
            }
        });
        var strange = new ConcurrentQueue<string>();
        var reader = Task.Run(async () =>
        {
            await using var following = await DbReader.OpenAsync(url, new DbReaderOptions { PollInterval = TimeSpan.FromMilliseconds(50), ObjectStore = options.ObjectStore });
            while (!stop.IsCancellationRequested)
            {
                await foreach (var (key, value) in following.ScanAsync(KeyRange.All))
                {
                    var k = Encoding.ASCII.GetString(key.Span);
                    var v = Encoding.ASCII.GetString(value.Span);
                    if (!v.StartsWith(k + "#", StringComparison.Ordinal))
                    {
                        strange.Enqueue($"reader showed {k}={v}");
                    }
                }
            }
        });

        var outcomes = new List<string>();
        string?[] points = [CrashPoints.CompactionOutputsWritten, CrashPoints.CompactionPublished, null];
        for (var cycle = 0; cycle < 9; cycle++)
        {
            var point = points[cycle % points.Length];
            var spec = point is null ? null : $"{point}:{random.Next(1, 3)}";
            using var child = CrashChildProcess.StartCompactor(url, spec, s3Endpoint);
            await child.Opened.WaitAsync(TimeSpan.FromMinutes(1));
            if (spec is null)
            {
                // A random moment: the kill itself is the event under test, not a synchronisation.
                await Task.Delay(random.Next(50, 800));
                await child.KillAsync();
            }
            else
            {
                Assert.That(await child.WaitForExitAsync(TimeSpan.FromMinutes(1)), Is.True, $"the compactor never reached {spec}:\n{child.Output}");
            }

            Assert.That(child.Killed, Is.True, $"cycle {cycle} ({spec ?? "random moment"}): exit code {child.ExitCode}\n{child.Output}");
            outcomes.Add(spec ?? "random");
            Assert.That(writer.IsFaulted, Is.False, () => $"the writer failed: {writer.Exception}");
        }

        await stop.CancelAsync();
        await Task.WhenAll(writer, collector, reader);
        await db.CloseAsync();
        Assert.That(strange, Is.Empty, "the reader shows only written values");

        await using (var compactor = await DbCompactor.OpenAsync(url, options))
        {
            while (await compactor.RunOnceAsync())
            {
            }
        }

        var clock = new ShiftedTimeProvider();
        clock.Advance(TimeSpan.FromDays(2));
        await using var opened = await ObjectStores.OpenAsync(url, storeOptions);
        var report = await DbGarbageCollector.RunOnceAsync(opened, "", new GcOptions { ManifestsKept = 1 }, clock);
        var latest = (await new ManifestStore(opened).ReadLatestAsync(CancellationToken.None))!.Manifest;
        var referenced = latest.L0.Concat(latest.SortedRuns.SelectMany(r => r.Ssts)).Select(h => SlateSharp.Sst.SstPaths.PathOf(h.Id).Value).ToHashSet();
        var stored = await opened.ListAsync("compacted/").Select(i => i.Path.Value).ToListAsync();
        TestContext.Out.WriteLine($"seed={seed}: kills {string.Join(", ", outcomes)}; {crashes} writer crashes; {acked.Count} keys; gc deleted {report.Ssts.Count} ssts");
        Assert.That(crashes, Is.GreaterThan(0), "the writer crashed and was reopened");
        Assert.That(stored, Is.EquivalentTo(referenced), "after gc only what the manifest references is left");

        await using var reopened = await SlateSharp.Db.OpenAsync(url, options);
        foreach (var (key, value) in acked)
        {
            var got = await reopened.GetAsync(Encoding.ASCII.GetBytes(key));
            Assert.That(got is null ? null : Encoding.ASCII.GetString(got), Is.EqualTo(value), $"seed={seed}: {key} lost");
        }
    }
}
