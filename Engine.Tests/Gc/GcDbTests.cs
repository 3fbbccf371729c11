using System.Text;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;
using Database = SlateSharp.Db;

namespace SlateSharp.Tests.Gc;

/// <summary>Collection of a real database: on demand, in-process pins, in the background, and reopening after it.</summary>
public sealed class GcDbTests
{
    private static DbOptions Options(TimeProvider time, int seed, GcOptions? gc = null) => new()
    {
        TimeProvider = time,
        FlushInterval = TimeSpan.FromMilliseconds(5),
        MemtableSizeBytes = 16 << 10,
        MaxUnflushedBytes = 1 << 20,
        RandomSeed = seed,
        GarbageCollection = gc,
    };

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Test]
    public async Task After_collecting_everything_collectable_reopen_write_crash_and_reopen_lose_nothing()
    {
        var seed = TestSeeds.Get(20);
        var random = new Random(seed);
        var time = new ShiftedTimeProvider();
        var store = new InMemoryObjectStore("gc-reopen", time);
        var expected = new SortedDictionary<string, string>(StringComparer.Ordinal);

        // Several writer lifetimes, each crashing: WAL objects, fences, L0 SSTs and manifests pile up.
        for (var life = 0; life < 4; life++)
        {
            var db = await Database.OpenAsync(store, "", Options(time, seed + life));
            for (var i = 0; i < 300; i++)
            {
                var key = $"k{random.Next(500):D4}";
                var value = $"life {life} write {i} " + new string('v', random.Next(200));
                await db.PutAsync(Bytes(key), Bytes(value));
                expected[key] = value;
            }

            if (life % 2 == 0)
            {
                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            }

            await db.SimulateCrashAsync();
        }

        var walIdsBefore = await WalIdsAsync(store);
        var highestWalIdEver = walIdsBefore.Max();
        time.Advance(TimeSpan.FromDays(3));
        var report = await DbGarbageCollector.RunOnceAsync(store, "", new GcOptions { ManifestsKept = 1 }, time);
        TestContext.Out.WriteLine(report);
        Assert.That(report.WalObjects.Count, Is.GreaterThan(0), "some wal objects were already in L0");
        Assert.That(report.Manifests.Count, Is.GreaterThan(0));
        Assert.That(report.Failures, Is.Empty);

        await using (var reopened = await Database.OpenAsync(store, "", Options(time, seed + 10)))
        {
            Assert.That(reopened.Recovery.WalFenceId, Is.GreaterThan(highestWalIdEver), "the new fence is above every wal id ever used, collected or not");
            await AssertContainsAsync(reopened, expected);
            for (var i = 0; i < 100; i++)
            {
                var key = $"k{random.Next(500):D4}";
                var value = $"after gc {i}";
                await reopened.PutAsync(Bytes(key), Bytes(value));
                expected[key] = value;
            }

            await reopened.SimulateCrashAsync();
        }

        await using var last = await Database.OpenAsync(store, "", Options(time, seed + 11));
        await AssertContainsAsync(last, expected);
        Assert.That(await last.ScanAsync(KeyRange.All).CountAsync(), Is.EqualTo(expected.Count));
    }

    [Test]
    public async Task An_sst_pinned_in_the_process_survives_in_process_collection_whatever_its_age()
    {
        var time = new ShiftedTimeProvider();
        var store = new InMemoryObjectStore("gc-pins", time);
        await using var db = await Database.OpenAsync(store, "", Options(time, 3));
        await db.PutAsync(Bytes("a"), Bytes("1"));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var orphan = SstId.Create(time.GetUtcNow().ToUnixTimeMilliseconds(), new byte[10]);
        await store.PutAsync(SstPaths.PathOf(orphan), new byte[10], PutMode.CreateIfAbsent);
        time.Advance(TimeSpan.FromDays(1));

        using (db.Pins.Acquire([orphan]))
        {
            var pinned = await db.RunGarbageCollectionAsync();
            Assert.That(pinned.Kept.PinnedInProcess, Is.EqualTo(1));
            Assert.That(pinned.Ssts.Count, Is.Zero);
            Assert.That(await store.HeadAsync(SstPaths.PathOf(orphan)), Is.Not.Null);
        }

        var released = await db.RunGarbageCollectionAsync();
        Assert.That(released.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(orphan).Value }));
        Assert.That(await db.GetAsync(Bytes("a")), Is.EqualTo(Bytes("1")));
    }

    /// <summary>
    /// The model workload (reads checked against a model, crashes and reopens) with the background collector
    /// running every 2 ms and every age but the SST's near zero: no finding, and old manifests and WAL objects
    /// are gone. The interval is that short because the run reopens its database ~100 times in well under a second,
    /// and a database that closes before its first pass is due never collects. SstMinAge stays 50 ms, because
    /// flushes do not yet pin the SSTs they are about to publish, and manifests that were the latest within it stay live.
    /// </summary>
    [Test]
    public async Task The_model_workload_with_aggressive_background_collection_has_no_findings()
    {
        var seed = TestSeeds.Get(30);
        var store = new InMemoryObjectStore("gc-model");
        var gc = new GcOptions
        {
            Interval = TimeSpan.FromMilliseconds(2),
            SstMinAge = TimeSpan.FromMilliseconds(50),
            ManifestMinAge = TimeSpan.FromMilliseconds(1),
            ManifestsKept = 1,
            WalMinAge = TimeSpan.FromMilliseconds(1),
            FenceMinAge = TimeSpan.FromMilliseconds(1),
            LeaseGrace = TimeSpan.Zero,
        };
        var run = new DbModelRun
        {
            Store = store,
            Options = DbModelRun.SmallOptions(seed, gc: gc),
            Seed = seed,
            Operations = 12_000,
            CrashShare = 0.5,
        };

        await run.RunAsync();

        TestContext.Out.WriteLine(run.Summary());
        Assert.That(run.Findings.Select(f => f.Category), Is.Empty, run.Report("model workload with background gc"));
        var db = new SlateSharp.Storage.Decorators.PrefixedObjectStore(store, "db");
        var manifests = await db.ListAsync(ManifestStore.Prefix).CountAsync();
        TestContext.Out.WriteLine($"{run.Reopens} reopens; {manifests} manifests and {(await WalIdsAsync(db)).Count} wal objects left");
        var latest = (await new ManifestStore(db).ReadLatestAsync(CancellationToken.None))!.Id;
        TestContext.Out.WriteLine($"latest manifest id {latest}; {run.CompactionJobs} compaction jobs");
        Assert.That(manifests, Is.GreaterThan(0));
        Assert.That((ulong)manifests, Is.LessThan(latest), "the background collector removed old manifests during the run");

        // How much the background passes got through depends on how long the run took (group commit made it fast); a
        // pass once every age has passed must remove the rest down to the latest.
        var later = new ShiftedTimeProvider();
        later.Advance(TimeSpan.FromHours(1));
        var final = await DbGarbageCollector.RunOnceAsync(store, "db", gc, later);
        var left = await db.ListAsync(ManifestStore.Prefix).CountAsync();
        TestContext.Out.WriteLine($"a final pass deleted {final.Manifests.Count} manifests; {left} left");
        Assert.That(final.Failures, Is.Empty);
        Assert.That((ulong)left, Is.LessThan(latest / 2), "the collector removes old manifests once their ages have passed");
    }

    private static async Task<List<ulong>> WalIdsAsync(IObjectStore store) =>
        await store.ListAsync(WalPaths.Prefix).Select(i => WalPaths.TryParseId(i.Path, out var id) ? id : 0).Where(id => id > 0).ToListAsync();

    private static async Task AssertContainsAsync(Database db, IReadOnlyDictionary<string, string> expected)
    {
        foreach (var (key, value) in expected)
        {
            var got = await db.GetAsync(Bytes(key));
            Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo(value), $"{key} was lost");
        }
    }
}
