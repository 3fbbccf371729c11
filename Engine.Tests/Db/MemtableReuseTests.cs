using System.Buffers.Binary;
using System.Security.Cryptography;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// A flushed memtable's memory is reused by the next memtables once nothing reads it, and never before: snapshots,
/// scans (whose rows outlive them) and gets running beside flushes keep seeing exactly what was written.
/// </summary>
public sealed class MemtableReuseTests
{
    private const int ValueBytes = 1000;

    [Test]
    public async Task Flushed_memtables_memory_is_reused_and_stays_within_one_memtable()
    {
        var seed = TestSeeds.Get(71);
        var options = Options(seed);
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", options);
        await WriteAsync(db, 12_000, round: 0);

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var stats = db.GetStats();
        Assert.That(stats.MemtableFlushes, Is.GreaterThanOrEqualTo(3), $"seed={seed}");
        Assert.That(stats.MemtableChunksReused, Is.GreaterThan(0), $"seed={seed}: later memtables filled earlier ones' chunks");
        Assert.That(stats.MemtablePoolBytes, Is.LessThanOrEqualTo(options.MemtableSizeBytes - (1L << 20)),
            $"seed={seed}: once no memtable waits, the pool keeps only what the active one can still take (its head node takes a chunk of its own)");
        Assert.That(stats.MemtableMemoryBytes, Is.InRange(stats.MemtablePoolBytes + 1, options.MemtableSizeBytes),
            $"seed={seed}: the memory alive is the pool's and the empty active memtable's; every other chunk was freed");

        var random = new Random(seed);
        for (var n = 0; n < 500; n++)
        {
            var i = random.Next(12_000);
            Assert.That(await db.GetAsync(Key(i)), Is.EqualTo(Value(i, 0)), $"seed={seed} key={i}");
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_snapshot_keeps_reading_its_memtables_while_later_ones_are_written_and_flushed()
    {
        var seed = TestSeeds.Get(73);
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Options(seed));
        const int Keys = 3_000;
        await WriteAsync(db, Keys, round: 0);

        var snapshot = await db.GetSnapshotAsync();
        var reusedBefore = db.GetStats().MemtableChunksReused;

        // Without the snapshot's hold, its memtables' chunks would be refilled with these rows.
        await OverwriteAndFlushAsync(db);

        Assert.That(db.GetStats().MemtableChunksReused, Is.GreaterThan(reusedBefore), $"seed={seed}: memory was reused meanwhile");
        var random = new Random(seed);
        for (var n = 0; n < 500; n++)
        {
            var i = random.Next(Keys);
            Assert.That(await snapshot.GetAsync(Key(i)), Is.EqualTo(Value(i, 0)), $"seed={seed} key={i}");
        }

        var scanned = 0;
        await foreach (var row in snapshot.ScanAsync(KeyRange.All))
        {
            Assert.That(row.Value.ToArray(), Is.EqualTo(Value(IndexOf(row.Key), 0)), $"seed={seed}");
            scanned++;
        }

        Assert.That(scanned, Is.EqualTo(Keys));
        await snapshot.DisposeAsync();
    }

    [Test]
    public async Task Rows_a_scan_returned_from_a_memtable_stay_as_they_were_after_it_is_reused()
    {
        var seed = TestSeeds.Get(79);
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Options(seed));
        const int Keys = 3_000;
        await WriteAsync(db, Keys, round: 0);

        var kept = new List<KeyValue>();
        await foreach (var row in db.ScanAsync(KeyRange.All))
        {
            kept.Add(row);
        }

        var reusedBefore = db.GetStats().MemtableChunksReused;
        await OverwriteAndFlushAsync(db);

        Assert.That(db.GetStats().MemtableChunksReused, Is.GreaterThan(reusedBefore), $"seed={seed}");
        Assert.That(kept, Has.Count.EqualTo(Keys));
        for (var i = 0; i < kept.Count; i++)
        {
            Assert.That((kept[i].Key.ToArray(), kept[i].Value.ToArray()), Is.EqualTo((Key(i), Value(i, 0))), $"seed={seed} row={i}");
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Gets_and_scans_beside_flushes_see_only_rows_that_were_written()
    {
        var seed = TestSeeds.Get(83);
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Options(seed));
        const int Keys = 2_000;
        const int Rounds = 12;
        var written = new int[Keys];
        using var stop = new CancellationTokenSource();

        var writer = Task.Run(async () =>
        {
            try
            {
                for (var round = 0; round < Rounds; round++)
                {
                    for (var i = 0; i < Keys; i++)
                    {
                        await db.PutAsync(Key(i), Value(i, round), WriteOptions.NoWait);
                        Volatile.Write(ref written[i], round + 1);
                    }
                }

                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            }
            finally
            {
                stop.Cancel();
            }
        });

        // A value is valid when it is one of the key's versions: (key, round) and a hash of both, so a row read out of
        // memory another memtable took over fails the check.
        var kept = new List<KeyValue>();
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            var random = new Random(seed + r);
            var reads = 0;
            while (!stop.IsCancellationRequested || reads < 100)
            {
                var i = random.Next(Keys);
                var round = Volatile.Read(ref written[i]);
                var value = await db.GetAsync(Key(i));
                if (round > 0)
                {
                    Assert.That(value, Is.Not.Null, $"seed={seed} key={i}");
                    Assert.That(RoundOf(i, value!), Is.GreaterThanOrEqualTo(round - 1), $"seed={seed} key={i}");
                }

                if (reads++ % 50 == 0)
                {
                    var start = random.Next(Keys);
                    await foreach (var row in db.ScanAsync(KeyRange.Between(Key(start), Key(start + 20))))
                    {
                        _ = RoundOf(IndexOf(row.Key), row.Value.ToArray());
                        lock (kept)
                        {
                            kept.Add(row);
                        }
                    }
                }
            }
        })).ToArray();

        await writer;
        await Task.WhenAll(readers);
        Assert.That(db.GetStats().MemtableChunksReused, Is.GreaterThan(0), $"seed={seed}");
        foreach (var row in kept)
        {
            _ = RoundOf(IndexOf(row.Key), row.Value.ToArray());
        }

        for (var i = 0; i < Keys; i++)
        {
            Assert.That(RoundOf(i, (await db.GetAsync(Key(i)))!), Is.EqualTo(Rounds - 1), $"seed={seed} key={i}");
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_get_keeps_the_memtable_it_read_until_it_has_its_answer()
    {
        // The get finds a merge operand and its base in one memtable and then waits inside the merge operator while
        // that memtable is flushed and later ones are written: the operands it passes alias the memtable's memory.
        var seed = TestSeeds.Get(89);
        var merges = new PausingMergeOperator();
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Options(seed, merges));

        // Past the arena's growing first chunks, so the rows below land in a full-size chunk that the pool takes back.
        await WriteAsync(db, 1_500, round: 0);

        var key = Key(1_000_000);
        await db.PutAsync(key, Value(1, 1), WriteOptions.NoWait);
        await db.MergeAsync(key, Value(2, 2), WriteOptions.NoWait);
        var reusedBefore = db.GetStats().MemtableChunksReused;

        var get = Task.Run(async () =>
        {
            PausingMergeOperator.PauseOnThisThread = true;
            return await db.GetAsync(key);
        });
        await merges.Paused.Task;

        await OverwriteAndFlushAsync(db);

        Assert.That(db.GetStats().MemtableChunksReused, Is.GreaterThan(reusedBefore), $"seed={seed}: memory was reused meanwhile");
        merges.Resume.SetResult();
        Assert.That(await get, Is.EqualTo([.. Value(1, 1), .. Value(2, 2)]), $"seed={seed}");
    }

    /// <summary>Concatenates the base and the operands; the first full merge on a thread that asks for it waits until resumed.</summary>
    private sealed class PausingMergeOperator : IMergeOperator
    {
        [ThreadStatic]
        public static bool PauseOnThisThread;

        public TaskCompletionSource Paused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Resume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ReadOnlyMemory<byte> FullMerge(ReadOnlySpan<byte> key, ReadOnlyMemory<byte>? existingValue, ReadOnlySpan<ReadOnlyMemory<byte>> operands)
        {
            if (PauseOnThisThread)
            {
                PauseOnThisThread = false;
                Paused.SetResult();
                Resume.Task.Wait();
            }

            var merged = new List<byte>(existingValue?.ToArray() ?? []);
            foreach (var operand in operands)
            {
                merged.AddRange(operand.ToArray());
            }

            return merged.ToArray();
        }

        public bool TryPartialMerge(ReadOnlySpan<byte> key, ReadOnlySpan<ReadOnlyMemory<byte>> operands, out ReadOnlyMemory<byte> merged)
        {
            merged = default;
            return false;
        }
    }

    /// <summary>
    /// Four rounds of overwrites, each of more than a memtable (the pool hands back the chunk returned last, so only a
    /// round that fills whole memtables takes every chunk again), each flushed.
    /// </summary>
    private static async Task OverwriteAndFlushAsync(SlateSharp.Db db)
    {
        for (var round = 1; round <= 4; round++)
        {
            await WriteAsync(db, 6_000, round);
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }
    }

    /// <summary>Writes version <paramref name="round"/> of keys 0 to <paramref name="keys"/> - 1, acknowledged from the memtable.</summary>
    private static async Task WriteAsync(SlateSharp.Db db, int keys, int round)
    {
        for (var i = 0; i < keys; i++)
        {
            await db.PutAsync(Key(i), Value(i, round), WriteOptions.NoWait);
        }
    }

    private static DbOptions Options(int seed, IMergeOperator? merges = null) => new()
    {
        MergeOperator = merges,
        // 4 MiB memtables fill full-size (1 MiB) arena chunks; the pool keeps four of them. Three memtables unflushed at
        // most: writers wait for flushes, so later memtables start while earlier ones are recycled.
        MemtableSizeBytes = 4L << 20,
        MaxUnflushedBytes = 12L << 20,
        FlushInterval = TimeSpan.FromMilliseconds(5),
        RandomSeed = seed,
        L0MaxSsts = 64,
    };

    private static byte[] Key(int i)
    {
        var key = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(key, i);
        return key;
    }

    private static int IndexOf(ReadOnlyMemory<byte> key) => (int)BinaryPrimitives.ReadInt64BigEndian(key.Span);

    /// <summary>Version <paramref name="round"/> of key <paramref name="i"/>: index, round, filler, then a hash of all before it.</summary>
    private static byte[] Value(int i, int round)
    {
        var value = new byte[ValueBytes];
        BinaryPrimitives.WriteInt32LittleEndian(value, i);
        BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(4), round);
        new Random(i * 31 + round).NextBytes(value.AsSpan(8, ValueBytes - 40));
        SHA256.HashData(value.AsSpan(0, ValueBytes - 32), value.AsSpan(ValueBytes - 32));
        return value;
    }

    /// <summary>The round a value of key <paramref name="i"/> was written in; fails when it is not one of its versions.</summary>
    private static int RoundOf(int i, byte[] value)
    {
        Assert.That(value, Has.Length.EqualTo(ValueBytes));
        var round = BinaryPrimitives.ReadInt32LittleEndian(value.AsSpan(4));
        Assert.That((BinaryPrimitives.ReadInt32LittleEndian(value), value), Is.EqualTo((i, Value(i, round))), $"key {i} read a value that was never written");
        return round;
    }
}
