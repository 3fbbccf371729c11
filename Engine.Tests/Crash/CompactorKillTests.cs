using System.Collections.Concurrent;
using System.Text;
using SlateSharp.Common;
using SlateSharp.Manifest;
using SlateSharp.Storage;
using SlateSharp.Tests.Gc;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// A compactor in its own process (<see cref="CompactorChild"/>) SIGKILLed again and again, at the compaction crash
/// points (outputs written but not published; published) and at random moments, while a writer in this process writes
/// durable puts without pause: every acknowledged write reads back after the writer's close and a reopen, and once a
/// last compactor has finished and GC has run, the store holds exactly the SSTs the manifest references (the killed
/// jobs' outputs were orphans, and are gone).
/// </summary>
public sealed class CompactorKillTests
{
    [Test]
    public async Task A_separate_compactor_killed_mid_job_loses_nothing_and_its_orphans_are_collected()
    {
        var seed = TestSeeds.Get(81);
        var random = new Random(seed);
        using var directory = new TestDirectory();
        var url = "file://" + Path.Combine(directory.Path, "db");
        var options = CompactorChild.Options(seed);
        var acked = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var db = await SlateSharp.Db.OpenAsync(url, options);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var keys = new Random(seed + 1);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var key = $"key-{keys.Next(300):D3}";
                var value = $"{key}#{n}-" + new string('v', keys.Next(20, 120));
                await db.PutAsync(Encoding.ASCII.GetBytes(key), Encoding.ASCII.GetBytes(value));
                acked[key] = value;
            }
        });

        var outcomes = new List<string>();
        string?[] points = [CrashPoints.CompactionOutputsWritten, CrashPoints.CompactionPublished, null];
        for (var cycle = 0; cycle < 9; cycle++)
        {
            var point = points[cycle % points.Length];
            var spec = point is null ? null : $"{point}:{random.Next(1, 3)}";
            using var child = CrashChildProcess.StartCompactor(url, spec);
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
        await writer;
        await db.CloseAsync();

        await using (var compactor = await DbCompactor.OpenAsync(url, options))
        {
            while (await compactor.RunOnceAsync())
            {
            }
        }

        var clock = new ShiftedTimeProvider();
        clock.Advance(TimeSpan.FromDays(2));
        using var store = (IDisposable)await ObjectStores.OpenAsync(url, new ObjectStoreOptions());
        var opened = (IObjectStore)store;
        var report = await DbGarbageCollector.RunOnceAsync(opened, "", new GcOptions { ManifestsKept = 1 }, clock);
        var latest = (await new ManifestStore(opened).ReadLatestAsync(CancellationToken.None))!.Manifest;
        var referenced = latest.L0.Concat(latest.SortedRuns.SelectMany(r => r.Ssts)).Select(h => SlateSharp.Sst.SstPaths.PathOf(h.Id).Value).ToHashSet();
        var stored = await opened.ListAsync("compacted/").Select(i => i.Path.Value).ToListAsync();
        TestContext.Out.WriteLine($"seed={seed}: kills {string.Join(", ", outcomes)}; {acked.Count} keys; gc deleted {report.Ssts.Count} ssts");
        Assert.That(stored, Is.EquivalentTo(referenced), "after gc only what the manifest references is left");

        await using var reopened = await SlateSharp.Db.OpenAsync(url, options);
        foreach (var (key, value) in acked)
        {
            var got = await reopened.GetAsync(Encoding.ASCII.GetBytes(key));
            Assert.That(got is null ? null : Encoding.ASCII.GetString(got), Is.EqualTo(value), $"seed={seed}: {key} lost");
        }
    }
}
