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
                Raise(ref peak, db.UnflushedBytes);
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

    [Test]
    public async Task Writers_wait_for_a_slow_wal_before_it_holds_more_than_its_part_of_the_budget()
    {
        const long Budget = 1 << 20;
        const long WalLimit = 64 << 10;
        const int Writers = 4;
        const int WritesEach = 300;
        var value = new byte[1024];
        var store = new GatedObjectStore(new InMemoryObjectStore(), "db/wal/");
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 64 << 10,
            MaxUnflushedBytes = Budget,
            MaxUnstoredWalBytes = WalLimit,
            WalObjectMaxBytes = 16 << 10,
            RandomSeed = 9,
            Compaction = new CompactionOptions { Enabled = false },
            L0MaxSsts = 1000,
        };

        // Opening stores a WAL object too: let each gated put through until the database is open. One arrival wait
        // is kept across both loops, as an abandoned one would swallow the next arrival.
        var opening = SlateSharp.Db.OpenAsync(store, "db", options).AsTask();
        var arrival = store.NextArrival;
        while (await Task.WhenAny(arrival, opening) != opening)
        {
            store.ReleaseOne();
            arrival = store.NextArrival;
        }

        await using var db = await opening;
        long peakWal = 0, peakUnflushed = 0;
        var writing = Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < WritesEach; i++)
            {
                await db.PutAsync(Encoding.UTF8.GetBytes($"w{w}-{i:D4}"), value, WriteOptions.NoWait);
                Raise(ref peakWal, db.UnstoredWalBytes);
                Raise(ref peakUnflushed, db.UnflushedBytes);
            }
        })));

        // Each WAL upload waits until the test lets it through, one at a time.
        while (await Task.WhenAny(arrival, writing) != writing)
        {
            store.ReleaseOne();
            arrival = store.NextArrival;
        }

        await writing;
        store.Open();
        await db.FlushAsync();

        // A write is admitted below the limit and then adds its own bytes: one write per writer of slack.
        const long Slack = Writers * (1024 + 64 + 256);
        TestContext.Out.WriteLine($"peak unstored WAL {peakWal} of {WalLimit}; peak unflushed {peakUnflushed} of {Budget}; {db.WriterStalls} stalls; {store.Released} gated uploads");
        Assert.That(peakWal, Is.LessThanOrEqualTo(WalLimit + Slack));
        Assert.That(peakUnflushed, Is.LessThanOrEqualTo(Budget + (2 * Slack)), "the whole budget holds too");
        Assert.That(db.WriterStalls, Is.GreaterThan(0), "the writers must have been made to wait");
        Assert.That(db.GetStats().UnstoredWalBytes, Is.Zero, "every appended byte was stored and released");
        Assert.That(await db.ScanAsync(KeyRange.All).CountAsync(), Is.EqualTo(Writers * WritesEach));
    }

    [Test]
    public void An_unstored_wal_limit_outside_the_budget_is_refused()
    {
        var options = new DbOptions { MaxUnflushedBytes = 64 << 20, MaxUnstoredWalBytes = 128 << 20 };
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", options));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("MaxUnstoredWalBytes"));
    }

    private static void Raise(ref long peak, long now)
    {
        long seen;
        while (now > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
        {
        }
    }

    [Test]
    public async Task A_put_keeps_the_bytes_it_was_given_though_the_caller_reuses_its_buffers_at_once()
    {
        var store = new GatedObjectStore(new InMemoryObjectStore(), "db/compacted/");
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 16 << 10,
            MaxUnflushedBytes = 64 << 10,
            Compaction = new CompactionOptions { Enabled = false },
            L0MaxSsts = 1000,
            RandomSeed = 9,
        };
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", options);

        // One key buffer and one value buffer for every put, overwritten as soon as PutAsync returns: until SST
        // uploads are let through, a put soon has to wait for memory, and is then still pending when they change.
        var key = new byte[8];
        var value = new byte[300];
        ValueTask pending = default;
        var puts = 0;
        for (; puts < 10_000; puts++)
        {
            Fill(key, value, puts);
            pending = db.PutAsync(key, value, WriteOptions.NoWait);
            key.AsSpan().Fill(0xEE);
            value.AsSpan().Fill(0xEE);
            if (!pending.IsCompleted)
            {
                break;
            }
        }

        Assert.That(pending.IsCompleted, Is.False, "some put must have had to wait for memory");
        store.Open();
        await pending;
        for (var i = 0; i <= puts; i++)
        {
            Fill(key, value, i);
            Assert.That(await db.GetAsync(key), Is.EqualTo(value), $"put {i} of {puts}");
        }

        Assert.That(await db.GetAsync(Enumerable.Repeat((byte)0xEE, 8).ToArray()), Is.Null);
    }

    private static void Fill(byte[] key, byte[] value, int i)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(key, i);
        value.AsSpan().Fill((byte)(i % 251));
    }
}
