using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// <see cref="SlateSharp.Db.DeleteRangeAsync"/>: one write hides every key of its range from gets, scans and later
/// snapshots, in memtables, after a flush moves it into the manifest, after WAL replay and after compaction, which
/// drops the hidden rows and, once nothing older is left, the range delete itself.
/// </summary>
public sealed class RangeDeleteTests
{
    private const string Path = "ranges";

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static DbOptions Options(int seed, IMergeOperator? mergeOperator = null) => new()
    {
        MergeOperator = mergeOperator,
        RandomSeed = seed,
        FlushInterval = TimeSpan.FromMilliseconds(2),
        MemtableSizeBytes = 8 << 10,
        WalObjectMaxBytes = 4 << 10,
        BlockSizeBytes = 512,
        Compaction = new() { Enabled = false },
        L0MaxSsts = 100_000,
    };

    [Test]
    public async Task A_range_delete_hides_its_range_and_nothing_else_in_memtable_manifest_and_after_reopen()
    {
        var store = new InMemoryObjectStore();
        await using (var db = await SlateSharp.Db.OpenAsync(store, Path, Options(1)))
        {
            foreach (var key in new[] { "a", "b", "b0", "c", "d", "e" })
            {
                await db.PutAsync(key, "v-" + key);
            }

            await db.DeleteRangeAsync(B("b"), B("d"));
            await db.PutAsync("c", "after");
            await AssertStateAsync(db, new() { ["a"] = "v-a", ["c"] = "after", ["d"] = "v-d", ["e"] = "v-e" }, "in the memtable");

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            Assert.That(db.ViewManifest.RangeTombstones, Has.Count.EqualTo(1), "the flush moved the range delete into the manifest");
            await AssertStateAsync(db, new() { ["a"] = "v-a", ["c"] = "after", ["d"] = "v-d", ["e"] = "v-e" }, "after the flush");

            // Unflushed: replayed from the WAL at the next open.
            await db.DeleteRangeAsync(B("d"), B("zz"));
        }

        await using (var db = await SlateSharp.Db.OpenAsync(store, Path, Options(2)))
        {
            await AssertStateAsync(db, new() { ["a"] = "v-a", ["c"] = "after" }, "after reopen");
        }
    }

    [Test]
    public async Task Compaction_drops_hidden_rows_and_then_the_range_delete_while_snapshots_keep_their_view()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, Path, Options(3));
        for (var i = 0; i < 400; i++)
        {
            await db.PutAsync($"k{i:D3}", $"v{i}", WriteOptions.NoWait);
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await using var before = await db.GetSnapshotAsync();
        await db.DeleteRangeAsync(B("k100"), B("k300"));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        Assert.That(db.ViewManifest.RangeTombstones, Has.Count.EqualTo(1));

        var compacted = await CompactEverythingAsync(store);
        await db.RefreshViewAsync();

        Assert.That(compacted.Jobs, Is.GreaterThan(0));
        Assert.That(db.ViewManifest.RangeTombstones, Is.Empty, "a compaction of every run and every older L0 SST drops the range delete");
        Assert.That(db.ViewManifest.SortedRuns.Sum(r => r.Ssts.Sum(s => s.EntryCount)), Is.EqualTo(200), "the 200 hidden rows are gone");
        Assert.That(await db.GetStringAsync("k150"), Is.Null);
        Assert.That(await db.GetStringAsync("k099"), Is.EqualTo("v99"));
        Assert.That(await db.GetStringAsync("k300"), Is.EqualTo("v300"));
        Assert.That(await before.GetAsync(B("k150")), Is.EqualTo(B("v150")), "an older snapshot still sees its point in time");
        var count = 0;
        await foreach (var row in db.ScanAsync(default, default))
        {
            count++;
            Assert.That(row.KeyString(), Is.Not.InRange("k100", "k299"));
        }

        Assert.That(count, Is.EqualTo(200));
    }

    [Test]
    public async Task A_reader_sees_range_deletes_from_the_wal_and_from_the_manifest()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, Path, Options(5));
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            await db.PutAsync(key, "v-" + key);
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.DeleteRangeAsync("b", "c");
        await using (var reader = await DbReader.OpenAsync(store, Path))
        {
            Assert.That(await reader.GetStringAsync("b"), Is.Null, "replayed from the wal");
            Assert.That(await reader.GetStringAsync("c"), Is.EqualTo("v-c"));
        }

        await db.DeleteRangeAsync("c", "d");
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await using (var reader = await DbReader.OpenAsync(store, Path))
        {
            var keys = new List<string>();
            await foreach (var row in reader.ScanAsync(default, default))
            {
                keys.Add(row.KeyString());
            }

            Assert.That(keys, Is.EqualTo(new[] { "a", "d" }));
        }
    }

    [Test]
    public async Task Merge_operands_above_a_range_delete_merge_onto_nothing_in_memtables_ssts_compaction_and_after_reopen()
    {
        var store = new InMemoryObjectStore();
        var options = Options(6, new CounterMergeOperator());
        var db = await SlateSharp.Db.OpenAsync(store, Path, options);
        await db.PutAsync(B("n"), CounterMergeOperator.Encode(10));
        await db.MergeAsync(B("n"), CounterMergeOperator.Encode(1));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.MergeAsync(B("n"), CounterMergeOperator.Encode(2));
        await using var before = await db.GetSnapshotAsync();
        await db.DeleteRangeAsync(B("m"), B("o"));
        await db.MergeAsync(B("n"), CounterMergeOperator.Encode(5));

        async Task ExpectAsync(string when)
        {
            Assert.That(CounterMergeOperator.Decode((await db.GetAsync(B("n")))!), Is.EqualTo(5), $"{when}: get");
            var rows = new List<long>();
            await foreach (var row in db.ScanAsync(default, default))
            {
                rows.Add(CounterMergeOperator.Decode(row.Value.Span));
            }

            Assert.That(rows, Is.EqualTo(new[] { 5L }), $"{when}: scan");
        }

        await ExpectAsync("in memtables");
        Assert.That(CounterMergeOperator.Decode((await before.GetAsync(B("n")))!), Is.EqualTo(13), "the snapshot before the range delete");
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await ExpectAsync("in l0");

        var compacted = await CompactEverythingAsync(store, new CounterMergeOperator());
        await db.RefreshViewAsync();
        Assert.That(compacted.Jobs, Is.GreaterThan(0));
        Assert.That(db.ViewManifest.RangeTombstones, Is.Empty);
        Assert.That(db.ViewManifest.SortedRuns.Sum(r => r.Ssts.Sum(h => h.EntryCount)), Is.EqualTo(1), "folded into one put");
        await ExpectAsync("after compaction");

        await db.DisposeAsync();
        db = await SlateSharp.Db.OpenAsync(store, Path, options);
        await ExpectAsync("after reopen");
        await db.DisposeAsync();
    }

    [Test]
    public async Task A_memtable_whose_rows_its_range_deletes_all_hide_flushes_without_an_sst()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, Path, Options(7));
        await db.PutAsync("a", "1");
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.PutAsync("b1", "2");
        await db.PutAsync("b2", "3");
        await db.DeleteRangeAsync("b", "c");
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(db.ViewManifest.L0, Has.Count.EqualTo(1), "only the first flush wrote an sst");
        Assert.That(db.ViewManifest.RangeTombstones, Has.Count.EqualTo(1));
        Assert.That(await db.GetStringAsync("b1"), Is.Null);
        Assert.That(await db.GetStringAsync("a"), Is.EqualTo("1"));
        await db.PutAsync("b3", "4");
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        Assert.That(db.ViewManifest.L0, Has.Count.EqualTo(2), "a row written after the range delete is flushed");
        Assert.That(await db.GetStringAsync("b3"), Is.EqualTo("4"));
    }

    [Test]
    public async Task Invalid_ranges_are_refused_and_an_empty_one_writes_nothing()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), Path, Options(4));
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await db.DeleteRangeAsync(B("b"), B("a")));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("start sorts after its end"));
        error = Assert.ThrowsAsync<SlateSharpException>(async () => await db.DeleteRangeAsync(ReadOnlyMemory<byte>.Empty, B("a")));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        var sequence = db.GetStats().LastSequence;
        await db.DeleteRangeAsync(B("a"), B("a"));
        Assert.That(db.GetStats().LastSequence, Is.EqualTo(sequence), "an empty range is no write");
    }

    /// <summary>
    /// Seeded random puts, deletes and range deletes with gets, scans, snapshots, flushes, compactions to the end and
    /// reopens, every read checked against a sorted dictionary.
    /// </summary>
    [TestCase(11)]
    [TestCase(12)]
    [TestCase(13)]
    public async Task Random_range_deletes_match_a_model_across_flush_compaction_and_reopen(int defaultSeed)
    {
        var seed = TestSeeds.Get(defaultSeed);
        var random = new Random(seed);
        var store = new InMemoryObjectStore();
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var db = await SlateSharp.Db.OpenAsync(store, Path, Options(seed));
        var snapshots = new List<(DbSnapshot Snapshot, SortedDictionary<string, string> Seen)>();
        try
        {
            for (var step = 0; step < 3000; step++)
            {
                var roll = random.Next(100);
                var key = Key(random);
                if (roll < 55)
                {
                    await db.PutAsync(key, $"s{step}", WriteOptions.NoWait);
                    model[key] = $"s{step}";
                }
                else if (roll < 65)
                {
                    await db.DeleteAsync(key, WriteOptions.NoWait);
                    model.Remove(key);
                }
                else if (roll < 70)
                {
                    var other = Key(random);
                    var (start, end) = string.CompareOrdinal(key, other) <= 0 ? (key, other) : (other, key);
                    await db.DeleteRangeAsync(B(start), B(end), WriteOptions.NoWait);
                    foreach (var hidden in model.Keys.Where(k => string.CompareOrdinal(k, start) >= 0 && string.CompareOrdinal(k, end) < 0).ToList())
                    {
                        model.Remove(hidden);
                    }
                }
                else if (roll < 85)
                {
                    Assert.That(await db.GetStringAsync(key), Is.EqualTo(model.GetValueOrDefault(key)), $"seed {seed} step {step}: get {key}");
                }
                else if (roll < 88)
                {
                    await AssertScanAsync(db.ScanAsync(default, default), model, $"seed {seed} step {step}: scan");
                }
                else if (roll < 91)
                {
                    await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
                }
                else if (roll < 93)
                {
                    await CompactEverythingAsync(store);
                    await db.RefreshViewAsync();
                }
                else if (roll < 95 && snapshots.Count < 4)
                {
                    snapshots.Add((await db.GetSnapshotAsync(), new SortedDictionary<string, string>(model, StringComparer.Ordinal)));
                }
                else if (roll < 97 && snapshots.Count > 0)
                {
                    var (snapshot, seen) = snapshots[random.Next(snapshots.Count)];
                    await AssertScanAsync(snapshot.ScanAsync(default, default), seen, $"seed {seed} step {step}: snapshot {snapshot.Sequence} scan");
                    var probe = Key(random);
                    Assert.That(await snapshot.GetAsync(B(probe)), Is.EqualTo(seen.TryGetValue(probe, out var v) ? B(v) : null), $"seed {seed} step {step}: snapshot get {probe}");
                }
                else if (roll < 98)
                {
                    foreach (var (snapshot, _) in snapshots)
                    {
                        await snapshot.DisposeAsync();
                    }

                    snapshots.Clear();
                    await db.DisposeAsync();
                    db = await SlateSharp.Db.OpenAsync(store, Path, Options(seed + step));
                }
            }

            await AssertScanAsync(db.ScanAsync(default, default), model, $"seed {seed}: final scan");
        }
        finally
        {
            foreach (var (snapshot, _) in snapshots)
            {
                await snapshot.DisposeAsync();
            }

            await db.DisposeAsync();
        }
    }

    private static string Key(Random random) => $"k{random.Next(300):D3}";

    private static async Task<CompactionStats> CompactEverythingAsync(IObjectStore store, IMergeOperator? mergeOperator = null)
    {
        var options = new DbOptions { RandomSeed = 7, MergeOperator = mergeOperator, Compaction = new() { MinSourcesPerJob = 2, SizeRatio = 1_000_000 } };
        await using var compactor = await DbCompactor.OpenAsync(store, Path, options);
        while (await compactor.RunOnceAsync())
        {
        }

        return compactor.Stats;
    }

    private static async Task AssertStateAsync(SlateSharp.Db db, Dictionary<string, string> expected, string when)
    {
        foreach (var key in new[] { "a", "b", "b0", "c", "d", "e" })
        {
            Assert.That(await db.GetStringAsync(key), Is.EqualTo(expected.GetValueOrDefault(key)), $"{when}: get {key}");
        }

        await AssertScanAsync(db.ScanAsync(default, default), new SortedDictionary<string, string>(expected, StringComparer.Ordinal), $"{when}: scan");
    }

    private static async Task AssertScanAsync(IAsyncEnumerable<KeyValue> rows, SortedDictionary<string, string> expected, string because)
    {
        var scanned = new List<KeyValuePair<string, string>>();
        await foreach (var row in rows)
        {
            scanned.Add(new(row.KeyString(), row.ValueString()));
        }

        Assert.That(scanned, Is.EqualTo(expected.ToList()), because);
    }
}
