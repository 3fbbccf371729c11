using System.Text;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;
using Database = SlateSharp.Db;

namespace SlateSharp.Tests.Gc;

/// <summary>
/// The basic rules on real backends (memory, local disk, RGW through <c>s3://</c>): a database written by several
/// crashed writers is collected with a clock three days ahead (stored times come from the server, so only the
/// collector's clock moves), and reopens with everything. RGW runs through Engine.Tests/run-tests.sh.
/// </summary>
[TestFixtureSource(nameof(Targets))]
public sealed class GcStoreTargetTests(StoreTarget target) : StoreTargetFixture(target)
{
    public static IEnumerable<StoreTarget> Targets()
    {
        yield return new MemoryTarget();
        yield return new LocalTarget("local");
        yield return new S3Target();
    }

    [Test]
    public async Task Old_wal_objects_manifests_and_orphan_ssts_go_and_the_database_reopens_with_everything()
    {
        // No compaction: the orphan is then the only SST no manifest references.
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), MemtableSizeBytes = 16 << 10, RandomSeed = 5, Compaction = new CompactionOptions { Enabled = false } };
        var expected = new Dictionary<string, string>();
        for (var life = 0; life < 3; life++)
        {
            var db = await Database.OpenAsync(Store, "gc", options);
            for (var i = 0; i < 60; i++)
            {
                var key = $"k{(life * 37 + i) % 90:D3}";
                expected[key] = $"life {life} value {i} " + new string('x', i * 5);
                await db.PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(expected[key]));
            }

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            await db.SimulateCrashAsync();
        }

        // An orphan SST (as a compactor killed mid-job leaves), minted long ago.
        var orphan = SstId.Create(DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeMilliseconds(), new byte[10]);
        var scoped = new SlateSharp.Storage.Decorators.PrefixedObjectStore(Store, "gc");
        await scoped.PutAsync(SstPaths.PathOf(orphan), new byte[32], PutMode.CreateIfAbsent);
        var ahead = new ShiftedTimeProvider();
        ahead.Advance(TimeSpan.FromDays(3));

        var dry = await DbGarbageCollector.RunOnceAsync(Store, "gc", new GcOptions { ManifestsKept = 1, DryRun = true }, ahead);
        var report = await DbGarbageCollector.RunOnceAsync(Store, "gc", new GcOptions { ManifestsKept = 1 }, ahead);
        TestContext.Out.WriteLine(report);

        Assert.That(report.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(orphan).Value }));
        Assert.That(report.Manifests.Count, Is.GreaterThan(0));
        Assert.That(report.WalObjects.Count, Is.GreaterThan(0));
        Assert.That(report.Failures, Is.Empty);
        Assert.That(report.Manifests.Paths, Is.EqualTo(dry.Manifests.Paths));
        Assert.That(report.WalObjects.Paths, Is.EqualTo(dry.WalObjects.Paths));
        Assert.That(await scoped.ListAsync(ManifestStore.Prefix).CountAsync(), Is.EqualTo(1), "only the latest manifest is left");
        Assert.That(await scoped.ListAsync(WalPaths.Prefix).CountAsync(), Is.GreaterThanOrEqualTo(1), "never the newest wal object");

        await using var reopened = await Database.OpenAsync(Store, "gc", options);
        foreach (var (key, value) in expected)
        {
            var got = await reopened.GetAsync(Encoding.UTF8.GetBytes(key));
            Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo(value), $"{key} was lost");
        }
    }
}
