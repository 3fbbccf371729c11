using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>Nothing acknowledged as durable is lost when the writer dies without closing.</summary>
[TestFixtureSource(typeof(StoreTargets), nameof(StoreTargets.ForDb))]
public sealed class RecoveryTests(StoreTarget target) : StoreTargetFixture(target)
{

    private DbOptions Options => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(Target.IsSlow ? 50 : 5),
        MemtableSizeBytes = 32 << 10,
        MaxUnflushedBytes = 1 << 20,
        RandomSeed = 11,
    };

    [Test]
    public async Task Every_durably_acknowledged_write_survives_a_crash()
    {
        var writes = Target.IsSlow ? 200 : 2_000;
        var acknowledged = new ConcurrentDictionary<string, string>();
        var db = await SlateSharp.Db.OpenAsync(Store, "crash", Options);

        // Eight writers with durable acknowledgements: group commit puts many into each WAL object. The first half is
        // flushed to L0 before the second is written, so some writes are in L0 and the rest live only in the WAL
        // (durable writes are now faster than the background flusher, so waiting on it would be a race).
        async Task WriteAsync(IEnumerable<int> indexes) =>
            await Parallel.ForEachAsync(indexes, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                var key = "key-" + i.ToString("D6", CultureInfo.InvariantCulture);
                var value = $"value {i} " + new string('x', i % 300);
                await db.PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value), WriteOptions.Default, ct);
                acknowledged[key] = value;
            });

        await WriteAsync(Enumerable.Range(0, writes / 2));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await WriteAsync(Enumerable.Range(writes / 2, writes - writes / 2));
        var flushedToL0 = db.Manifest.Manifest.L0.Count;
        await db.PutAsync(Encoding.UTF8.GetBytes("unacknowledged"), Encoding.UTF8.GetBytes("may be lost"), WriteOptions.NoWait);
        await db.SimulateCrashAsync();

        await using var reopened = await SlateSharp.Db.OpenAsync(Store, "crash", Options);

        TestContext.Out.WriteLine($"{acknowledged.Count} acknowledged writes; {flushedToL0} L0 SSTs before the crash");
        Assert.That(flushedToL0, Is.GreaterThan(0), "some writes must have reached L0 and some only the WAL");
        foreach (var (key, value) in acknowledged)
        {
            var got = await reopened.GetAsync(Encoding.UTF8.GetBytes(key));
            Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo(value), $"acknowledged {key} was lost");
        }

        Assert.That(await reopened.ScanAsync(KeyRange.All).CountAsync(), Is.InRange(acknowledged.Count, acknowledged.Count + 1));
    }

    [Test]
    public async Task Crashing_twice_in_a_row_replays_the_same_wal_again_without_loss_or_duplicates()
    {
        var db = await SlateSharp.Db.OpenAsync(Store, "twice", Options);
        for (var i = 0; i < 50; i++)
        {
            await db.PutAsync(Encoding.UTF8.GetBytes($"k{i:D3}"), Encoding.UTF8.GetBytes($"v{i}"), WriteOptions.NoWait);
        }

        await db.FlushAsync();
        await db.SimulateCrashAsync();
        var second = await SlateSharp.Db.OpenAsync(Store, "twice", Options);
        await second.PutAsync(Encoding.UTF8.GetBytes("k000"), Encoding.UTF8.GetBytes("overwritten"));
        await second.SimulateCrashAsync();

        await using var third = await SlateSharp.Db.OpenAsync(Store, "twice", Options);

        var all = await third.ScanAsync(KeyRange.All).Select(kv => Encoding.UTF8.GetString(kv.Value.Span)).ToListAsync();
        Assert.That(all, Has.Count.EqualTo(50));
        Assert.That(all[0], Is.EqualTo("overwritten"));
        Assert.That(all[49], Is.EqualTo("v49"));
        Assert.That(third.WriterEpoch, Is.EqualTo(3));
    }
}
