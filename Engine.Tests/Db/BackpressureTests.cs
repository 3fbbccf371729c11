using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>Writers wait when unflushed memory reaches its limit, however fast they write and however slow the store is.</summary>
public sealed class BackpressureTests
{
    [Test]
    public async Task Writers_wait_for_a_slow_store_and_memory_stays_within_the_budget()
    {
        const long Budget = 256 << 10;
        const int Writers = 4;
        const int WritesEach = 400;
        var value = new byte[1024];
        var store = new GatedObjectStore(new InMemoryObjectStore(), "db/compacted/");
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 64 << 10,
            MaxUnflushedBytes = Budget,
            WalObjectMaxBytes = 16 << 10,
            RandomSeed = 8,

            // One uploader (the flusher) at a time, as the gate below releases them; compaction would upload beside it.
            Compaction = new CompactionOptions { Enabled = false },
            L0MaxSsts = 1000,
        };
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        long peak = 0;

        var writing = Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < WritesEach; i++)
            {
                await db.PutAsync(Encoding.UTF8.GetBytes($"w{w}-{i:D4}"), value, WriteOptions.NoWait);
                var now = db.UnflushedBytes;
                long seen;
                while (now > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                {
                }
            }
        })));

        // Each SST upload waits until the test lets it through, one at a time.
        while (!writing.IsCompleted)
        {
            if (await Task.WhenAny(store.NextArrival, writing) == writing)
            {
                break;
            }

            store.ReleaseOne();
        }

        await writing;
        store.Open();
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        // A write is admitted below the budget and may then add its own bytes, which it is charged twice (its WAL
        // bytes until the WAL object is stored, its memtable bytes until the SST is): one such write per writer of slack.
        const long Slack = Writers * 2 * (1024 + 64 + 256);
        TestContext.Out.WriteLine($"peak unflushed {peak} bytes of {Budget}; {db.WriterStalls} stalls; {store.Released} gated uploads");
        Assert.That(peak, Is.LessThanOrEqualTo(Budget + Slack));
        Assert.That(db.WriterStalls, Is.GreaterThan(0), "the writers must have been made to wait");
        Assert.That(store.Released, Is.GreaterThan(0));
        Assert.That(await db.ScanAsync(KeyRange.All).CountAsync(), Is.EqualTo(Writers * WritesEach));
    }
}
