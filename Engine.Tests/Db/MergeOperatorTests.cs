using System.Buffers.Binary;
using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.Gc;
using SlateSharp.Tests.Reader;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// <see cref="SlateSharp.Db.MergeAsync"/> and <see cref="DbOptions.MergeOperator"/>: merged values in gets and scans from the
/// memtable, L0 and sorted runs, batches, the refusals (no operator, a TTL), an operator that throws, and readers.
/// </summary>
public sealed class MergeOperatorTests
{
    private static readonly CounterMergeOperator Counter = new();

    private static byte[] K(string s) => Encoding.UTF8.GetBytes(s);

    private static DbOptions Options(IMergeOperator? mergeOperator, bool compaction = false, TimeProvider? time = null) => new()
    {
        MergeOperator = mergeOperator,
        RandomSeed = 13,
        FlushInterval = TimeSpan.FromMilliseconds(5),
        TimeProvider = time ?? TimeProvider.System,
        Compaction = compaction ? new CompactionOptions { MinSourcesPerJob = 2, PollInterval = TimeSpan.FromMilliseconds(20) } : new CompactionOptions { Enabled = false },
    };

    private static async Task<long?> CountAsync(SlateSharp.Db db, string key) =>
        await db.GetAsync(K(key)) is { } value ? CounterMergeOperator.Decode(value) : null;

    private static async Task CompactAllAsync(InMemoryObjectStore store, SlateSharp.Db db, IMergeOperator? mergeOperator)
    {
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await using var compactor = await DbCompactor.OpenAsync(store, "db", new DbOptions { MergeOperator = mergeOperator, RandomSeed = 5, Compaction = new CompactionOptions { MinSourcesPerJob = 2 } });
        var jobs = 0;
        while (await compactor.RunOnceAsync() && jobs++ < 100)
        {
        }

        await db.RefreshViewAsync();
    }

    [Test]
    public async Task A_counter_adds_across_the_memtable_l0_and_sorted_runs_in_gets_and_scans()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options(Counter));
        await db.MergeAsync(K("hits"), CounterMergeOperator.Encode(1));
        await db.MergeAsync(K("hits"), CounterMergeOperator.Encode(2));
        Assert.That(await CountAsync(db, "hits"), Is.EqualTo(3), "from the memtable alone, onto no value");

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.PutAsync(K("base"), CounterMergeOperator.Encode(100));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.MergeAsync(K("hits"), CounterMergeOperator.Encode(10));
        await db.MergeAsync(K("base"), CounterMergeOperator.Encode(5));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.MergeAsync(K("base"), CounterMergeOperator.Encode(-1));
        Assert.That(await CountAsync(db, "hits"), Is.EqualTo(13), "across L0 SSTs");
        Assert.That(await CountAsync(db, "base"), Is.EqualTo(104), "memtable and L0 operands onto an L0 put");

        await CompactAllAsync(store, db, Counter);
        Assert.That(db.GetStats().L0Ssts, Is.Zero, "compacted into a sorted run");
        await db.MergeAsync(K("hits"), CounterMergeOperator.Encode(100));
        Assert.That(await CountAsync(db, "hits"), Is.EqualTo(113));
        Assert.That(await CountAsync(db, "base"), Is.EqualTo(104));
        var scanned = await db.ScanAsync(default, default).Select(kv => $"{Encoding.UTF8.GetString(kv.Key.Span)}={CounterMergeOperator.Decode(kv.Value.Span)}").ToListAsync();
        Assert.That(scanned, Is.EqualTo(new[] { "base=104", "hits=113" }));
    }

    [Test]
    public async Task A_delete_resets_and_a_put_replaces_what_merges_built()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Options(new AppendMergeOperator()));
        await db.MergeAsync("list", "a");
        await db.MergeAsync("list", "b");
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.DeleteAsync("list");
        Assert.That(await db.GetStringAsync("list"), Is.Null);
        await db.MergeAsync("list", "c");
        Assert.That(await db.GetStringAsync("list"), Is.EqualTo("c"), "merged onto no value after the delete");
        await db.PutAsync("list", "x");
        await db.MergeAsync("list", "y");
        Assert.That(await db.GetStringAsync("list"), Is.EqualTo("x,y"));
    }

    [Test]
    public async Task A_batch_applies_a_keys_operations_in_order()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Options(new AppendMergeOperator()));
        await db.PutAsync("b", "old");
        await db.WriteAsync(new WriteBatch().Put("a", "1").Merge("a", "2").Merge("a", "3").Merge("b", "x").Merge("b", "y").Delete("c").Merge("c", "z").Merge("d", "q").Put("d", "p"));
        Assert.That(await db.GetStringAsync("a"), Is.EqualTo("1,2,3"));
        Assert.That(await db.GetStringAsync("b"), Is.EqualTo("old,x,y"), "two merges combined, then merged onto the stored value");
        Assert.That(await db.GetStringAsync("c"), Is.EqualTo("z"));
        Assert.That(await db.GetStringAsync("d"), Is.EqualTo("p"), "a put after a merge wins");

        await using var declining = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Options(new AppendMergeOperator(partialLimit: 0)));
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await declining.WriteAsync(new WriteBatch().Merge("k", "1").Merge("k", "2").Put("other", "v")))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(await declining.GetStringAsync("other"), Is.Null, "nothing of the refused batch applied");
    }

    [Test]
    public async Task Without_an_operator_merges_are_refused_and_stored_operands_fail_reads()
    {
        var store = new InMemoryObjectStore();
        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", Options(null)))
        {
            var single = Assert.ThrowsAsync<SlateSharpException>(async () => await db.MergeAsync(K("k"), CounterMergeOperator.Encode(1)))!;
            var batch = Assert.ThrowsAsync<SlateSharpException>(async () => await db.WriteAsync(new WriteBatch().Merge(K("k"), CounterMergeOperator.Encode(1))))!;
            Assert.That(single.Kind, Is.EqualTo(ErrorKind.Invalid));
            Assert.That(batch.Kind, Is.EqualTo(ErrorKind.Invalid));
            Assert.That(single.Message, Does.Contain("MergeOperator"));
            Assert.That(await db.GetAsync(K("k")), Is.Null, "nothing was written");
        }

        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", Options(Counter)))
        {
            await db.MergeAsync(K("k"), CounterMergeOperator.Encode(1));
        }

        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", Options(null)))
        {
            var get = Assert.ThrowsAsync<SlateSharpException>(async () => await db.GetAsync(K("k")))!;
            Assert.That(get.Kind, Is.EqualTo(ErrorKind.Invalid));
            Assert.That(get.Message, Does.Contain(Convert.ToHexString(K("k"))), "the error names the key");
            Assert.ThrowsAsync<SlateSharpException>(async () => await db.ScanAsync(default, default).ToListAsync());
        }
    }

    [Test]
    public async Task A_merge_takes_no_ttl_and_merges_onto_an_expiring_put_until_it_expires()
    {
        var time = new ShiftedTimeProvider();
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options(Counter, time: time));
        var ttl = Assert.ThrowsAsync<SlateSharpException>(async () => await db.MergeAsync(K("k"), CounterMergeOperator.Encode(1), new WriteOptions { Ttl = TimeSpan.FromMinutes(1) }))!;
        Assert.That(ttl.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.ThrowsAsync<SlateSharpException>(async () => await db.WriteAsync(new WriteBatch().Merge(K("k"), CounterMergeOperator.Encode(1)), new WriteOptions { Ttl = TimeSpan.FromMinutes(1) }));

        await db.PutAsync(K("k"), CounterMergeOperator.Encode(100), new WriteOptions { Ttl = TimeSpan.FromHours(1) });
        await db.MergeAsync(K("k"), CounterMergeOperator.Encode(5));
        await CompactAllAsync(store, db, Counter);
        Assert.That(await CountAsync(db, "k"), Is.EqualTo(105), "merged onto the put while it lives, compacted or not");
        time.Advance(TimeSpan.FromHours(2));
        Assert.That(await CountAsync(db, "k"), Is.EqualTo(5), "the expired put counts as no value; the operand stays");
    }

    [Test]
    public async Task An_operator_that_throws_fails_the_read_with_an_invalid_error_naming_the_key_and_never_the_compaction()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options(new ThrowingMergeOperator()));
        await db.MergeAsync(K("bad"), K("x"));
        await db.PutAsync(K("good"), K("v"));
        await CompactAllAsync(store, db, new ThrowingMergeOperator());
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await db.GetAsync(K("bad")))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain(Convert.ToHexString(K("bad"))));
        Assert.That(error.InnerException, Is.TypeOf<FormatException>());
        Assert.That(await db.GetAsync(K("good")), Is.EqualTo(K("v")), "other keys read as ever");
    }

    [Test]
    public async Task A_reader_sees_merged_values()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options(Counter));
        await db.MergeAsync(K("n"), CounterMergeOperator.Encode(2));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.MergeAsync(K("n"), CounterMergeOperator.Encode(3));
        await using var reader = await DbReader.OpenAsync(store, "db", new DbReaderOptions { MergeOperator = Counter, UseLease = false, TimeProvider = new StepClock() });
        Assert.That(CounterMergeOperator.Decode(await reader.GetAsync(K("n")) ?? []), Is.EqualTo(5), "an L0 operand and a replayed WAL operand");
        var scanned = await reader.ScanAsync(default, default).Select(kv => CounterMergeOperator.Decode(kv.Value.Span)).ToListAsync();
        Assert.That(scanned, Is.EqualTo(new[] { 5L }));
    }

    [Test]
    public async Task Merges_are_counted_one_per_operand()
    {
        using var recorder = new Telemetry.MeasurementRecorder();
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "merges-" + Guid.NewGuid().ToString("N"), Options(Counter));
        recorder.Location = db.Location;
        await db.MergeAsync(K("a"), CounterMergeOperator.Encode(1));
        await db.WriteAsync(new WriteBatch().Merge(K("b"), CounterMergeOperator.Encode(1)).Merge(K("c"), CounterMergeOperator.Encode(1)).Put(K("d"), K("v")));
        recorder.Collect();
        Assert.That(recorder.Sum("slatesharp.db.merges"), Is.EqualTo(3), "one merge and two in the batch");
        Assert.That(recorder.Sum("slatesharp.db.puts"), Is.EqualTo(1));
        Assert.That(recorder.Sum("slatesharp.db.deletes"), Is.EqualTo(0), "a batch's merges are not counted as deletes");
    }

    [Test]
    public async Task The_usage_example_works_as_written()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions { MergeOperator = new UsageCounter() });
        await db.MergeAsync("page:home"u8.ToArray(), BitConverter.GetBytes(1L));
        await db.MergeAsync("page:home"u8.ToArray(), BitConverter.GetBytes(1L));
        long views = BitConverter.ToInt64(await db.GetAsync("page:home"u8.ToArray()));
        Assert.That(views, Is.EqualTo(2));
    }

    // As in docs/usage.md, "Merge operator".
    private sealed class UsageCounter : IMergeOperator
    {
        public ReadOnlyMemory<byte> FullMerge(ReadOnlySpan<byte> key, ReadOnlyMemory<byte>? existingValue, ReadOnlySpan<ReadOnlyMemory<byte>> operands)
        {
            long sum = existingValue is { } existing ? BinaryPrimitives.ReadInt64LittleEndian(existing.Span) : 0;
            foreach (var operand in operands)
            {
                sum += BinaryPrimitives.ReadInt64LittleEndian(operand.Span);
            }

            var result = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(result, sum);
            return result;
        }

        public bool TryPartialMerge(ReadOnlySpan<byte> key, ReadOnlySpan<ReadOnlyMemory<byte>> operands, out ReadOnlyMemory<byte> merged)
        {
            merged = FullMerge(key, null, operands);   // adding is associative: operands always combine
            return true;
        }
    }
}
