using System.Collections.Concurrent;
using System.Text;
using SlateSharp.Tests.TestSupport;
using Database = SlateSharp.Db;

namespace SlateSharp.Tests.Compaction;

/// <summary>
/// Everything at once on each backend (memory, local disk, RGW through <c>s3://</c>): a writer that crashes and reopens,
/// a compactor of its own (not embedded) that is stopped mid-job and reopened, a garbage collector from "another
/// process" (no in-process pins) with short minimum ages, and a <see cref="DbReader"/> following along, for a bounded
/// number of writer rounds. Every write is durable before it is acknowledged. Checked: after every reopen and at the
/// end, each key holds its last acknowledged value or a later attempted one (nothing lost, nothing resurrected); the
/// reader only ever shows values that were written, never going back to an older one for a key.
/// </summary>
[TestFixtureSource(nameof(Targets))]
public sealed class TogetherTests(StoreTarget target) : StoreTargetFixture(target)
{
    private const int Keys = 200;

    public static IEnumerable<StoreTarget> Targets()
    {
        yield return new MemoryTarget();
        yield return new LocalTarget("local");
        yield return new S3Target();
    }

    [Test]
    public async Task Writer_compactor_gc_and_reader_together_lose_nothing_and_show_only_written_states()
    {
        var seed = TestSeeds.Get(61);
        var random = new Random(seed);
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 16 << 10,
            BlockSizeBytes = 512,
            L0MaxSsts = 8,
            ManifestPollInterval = TimeSpan.FromMilliseconds(100),
            Compaction = new CompactionOptions { Enabled = false, MinSourcesPerJob = 3, TargetSstBytes = 8 << 10, MaxSubcompactions = 2, PollInterval = TimeSpan.FromMilliseconds(20), ReadaheadBytes = 4096 },
            RandomSeed = seed,
        };
        var gc = new GcOptions
        {
            SstMinAge = TimeSpan.FromSeconds(3),
            ManifestMinAge = TimeSpan.FromMilliseconds(500),
            ManifestsKept = 2,
            WalMinAge = TimeSpan.FromMilliseconds(500),
            FenceMinAge = TimeSpan.FromMilliseconds(500),
            LeaseGrace = TimeSpan.FromSeconds(1),
        };

        // key -> every value ever attempted, in order; key -> index of the last acknowledged one (-1: deleted / never).
        var attempted = new ConcurrentDictionary<string, List<string?>>();
        var acked = new ConcurrentDictionary<string, int>();
        var problems = new ConcurrentQueue<string>();
        var sequence = 0;
        using var done = new CancellationTokenSource();
        await (await Database.OpenAsync(Store, "db", options)).CloseAsync();

        var compactions = 0L;
        var compactorTask = Task.Run(async () =>
        {
            var stops = new Random(seed + 1);
            while (!done.IsCancellationRequested)
            {
                await using var compactor = await DbCompactor.OpenAsync(Store, "db", options);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(done.Token);
                stop.CancelAfter(TimeSpan.FromMilliseconds(stops.Next(50, 1500)));
                try
                {
                    await compactor.RunAsync(stop.Token);
                }
                catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
                {
                }

                Interlocked.Add(ref compactions, compactor.Stats.Jobs);
            }
        });
        var collections = 0;
        var gcTask = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                try
                {
                    var report = await DbGarbageCollector.RunOnceAsync(Store, "db", gc);
                    collections += report.Ssts.Count + report.Manifests.Count + report.WalObjects.Count > 0 ? 1 : 0;
                }
                catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
                {
                    // A pass that could not reach the store (a real S3 server timing out under this load) deleted
                    // nothing it was unsure of; the next pass starts over, as an operator's would.
                }

                await Task.Delay(50);
            }
        });
        var readerViews = 0;
        var readerTask = Task.Run(async () =>
        {
            var seen = new Dictionary<string, int>();
            while (!done.IsCancellationRequested)
            {
                await using var reader = await DbReader.OpenAsync(Store, "db", new DbReaderOptions { PollInterval = TimeSpan.FromMilliseconds(50), LeaseLifetime = TimeSpan.FromSeconds(10) });
                for (var i = 0; i < 20 && !done.IsCancellationRequested; i++)
                {
                    await foreach (var (key, value) in reader.ScanAsync(KeyRange.All))
                    {
                        var k = Encoding.ASCII.GetString(key.Span);
                        var v = Encoding.ASCII.GetString(value.Span);
                        var versions = attempted.GetValueOrDefault(k);
                        int index;
                        lock (versions ?? [])
                        {
                            index = versions?.IndexOf(v) ?? -1;
                        }

                        if (index < 0)
                        {
                            problems.Enqueue($"reader showed {k}={v}, which was never written");
                        }
                        else if (seen.TryGetValue(k, out var before) && index < before)
                        {
                            problems.Enqueue($"reader went back for {k}: version {index} after {before}");
                        }
                        else
                        {
                            seen[k] = index;
                        }
                    }

                    readerViews++;
                    await Task.Delay(30);
                }
            }
        });

        try
        {
            // At least 6 lives of the writer, and more until the compactor has published a job and the reader has
            // scanned a few times: durable writes take about one PUT each (group commit), so 6 lives can end before
            // the others have started.
            for (var round = 0; round < 6 || (round < 400 && (Interlocked.Read(ref compactions) == 0 || Volatile.Read(ref readerViews) < 3)); round++)
            {
                var db = await Database.OpenAsync(Store, "db", options);
                await CheckAsync(db, attempted, acked, problems, $"after reopen {round}");
                for (var op = 0; op < 120; op++)
                {
                    var k = $"key-{random.Next(Keys):D3}";
                    var value = random.Next(6) == 0 ? null : $"{k}#{Interlocked.Increment(ref sequence)}-" + new string('v', random.Next(20, 120));
                    var versions = attempted.GetOrAdd(k, _ => []);
                    int index;
                    lock (versions)
                    {
                        versions.Add(value);
                        index = versions.Count - 1;
                    }

                    if (value is null)
                    {
                        await db.DeleteAsync(Encoding.ASCII.GetBytes(k));
                    }
                    else
                    {
                        await db.PutAsync(Encoding.ASCII.GetBytes(k), Encoding.ASCII.GetBytes(value));
                    }

                    acked[k] = index;
                }

                if (random.Next(2) == 0)
                {
                    await db.SimulateCrashAsync();
                }
                else
                {
                    await db.CloseAsync();
                }
            }
        }
        finally
        {
            await done.CancelAsync();
            await Task.WhenAll(compactorTask, gcTask, readerTask);
        }

        await using (var compactor = await DbCompactor.OpenAsync(Store, "db", options))
        {
            while (await compactor.RunOnceAsync())
            {
            }
        }

        await DbGarbageCollector.RunOnceAsync(Store, "db", gc);

        // The writer does not compact (another process does): closing it flushes what it replayed, and at L0MaxSsts the
        // flush waits for a compactor, so one runs until the last writer has closed.
        await using (var compactor = await DbCompactor.OpenAsync(Store, "db", options))
        {
            using var closed = new CancellationTokenSource();
            var compacting = compactor.RunAsync(closed.Token);
            try
            {
                await using var final = await Database.OpenAsync(Store, "db", options);
                await CheckAsync(final, attempted, acked, problems, "at the end");
            }
            finally
            {
                await closed.CancelAsync();
                await compacting;
            }
        }

        TestContext.Out.WriteLine($"seed={seed}: {Interlocked.Read(ref compactions)} compaction jobs, {collections} collections that deleted something, {readerViews} reader scans");
        Assert.That(problems, Is.Empty, $"seed={seed}");
        Assert.That(Interlocked.Read(ref compactions), Is.GreaterThan(0), "the compactor ran");
        Assert.That(readerViews, Is.GreaterThan(0), "the reader read");
    }

    /// <summary>Each key holds its last acknowledged value or one attempted after it; nothing else, nothing older.</summary>
    private static async Task CheckAsync(
        Database db, ConcurrentDictionary<string, List<string?>> attempted, ConcurrentDictionary<string, int> acked, ConcurrentQueue<string> problems, string when)
    {
        foreach (var (k, versions) in attempted)
        {
            var got = await db.GetAsync(Encoding.ASCII.GetBytes(k));
            var value = got is null ? null : Encoding.ASCII.GetString(got);
            var last = acked.GetValueOrDefault(k, -1);
            List<string?> allowed;
            lock (versions)
            {
                allowed = versions.Skip(Math.Max(0, last)).ToList();
            }

            if (last < 0)
            {
                allowed.Add(null);
            }

            if (!allowed.Contains(value))
            {
                problems.Enqueue($"{when}: {k}={value ?? "(absent)"}, but the last acknowledged write was #{last} ({(last >= 0 ? versions[last] ?? "delete" : "none")})");
            }
        }
    }
}
