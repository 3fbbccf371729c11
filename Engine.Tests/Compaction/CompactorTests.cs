using System.Text;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compaction;

/// <summary>
/// Compaction end to end on the in-memory store: a compactor in its own right (<see cref="DbCompactor"/>) and the one
/// embedded in the writer, checked against a model of the data, the manifest's shape and a reopen.
/// </summary>
public sealed class CompactorTests
{
    private const int Keys = 600;

    [Test]
    public async Task A_separate_compactor_merges_l0_into_one_bottom_run_that_holds_only_the_newest_live_rows()
    {
        var seed = TestSeeds.Get(41);
        var store = new InMemoryObjectStore();
        var options = Options(seed, embedded: false);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using (var db = await SlateSharp.Db.OpenAsync(store, "", options))
        {
            await WriteAsync(db, model, new Random(seed), 6000);
            Assert.That(db.Manifest.Manifest.L0.Count, Is.GreaterThan(3), "the load left many L0 ssts");

            await using var compactor = await DbCompactor.OpenAsync(store, "", options);
            var jobs = 0;
            while (await compactor.RunOnceAsync() && jobs < 100)
            {
                jobs++;
                var after = (await new ManifestStore(store).ReadLatestAsync(CancellationToken.None))!.Manifest;
                TestContext.Out.WriteLine($"after job {jobs}: l0={after.L0.Count} runs={string.Join(",", after.SortedRuns.Select(r => $"{r.Id}:{r.Ssts.Count}"))}");
            }

            Assert.That(jobs, Is.InRange(1, 5), "a few jobs (the size ratio merges every run) and then nothing more to do");
            var manifest = (await new ManifestStore(store).ReadLatestAsync(CancellationToken.None))!.Manifest;
            Assert.That(manifest.L0, Is.Empty);
            Assert.That(manifest.SortedRuns, Has.Count.EqualTo(1));
            var run = manifest.SortedRuns[0];
            Assert.That(run.Ssts.Count, Is.GreaterThan(1), "outputs are cut at the target size");
            Assert.That(run.Ssts.Sum(s => s.EntryCount), Is.EqualTo(model.Count), "the bottom run keeps one row per live key: no old versions, no tombstones");
            Assert.That(compactor.Stats.Jobs, Is.EqualTo(jobs));
            Assert.That(compactor.Stats.BytesWritten, Is.LessThan(compactor.Stats.BytesRead));

            // The writer still reads right (its view may be older; nothing was deleted), and so does a scan.
            await AssertMatchesAsync(db, model);
            await WriteAsync(db, model, new Random(seed + 1), 500);
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(store, "", options);
        await AssertMatchesAsync(reopened, model);
    }

    [Test]
    public async Task Subcompactions_split_the_key_space_and_write_exactly_what_one_range_writes()
    {
        var seed = TestSeeds.Get(42);
        var one = new InMemoryObjectStore();
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using (var db = await SlateSharp.Db.OpenAsync(one, "", Options(seed, embedded: false)))
        {
            await WriteAsync(db, model, new Random(seed), 6000);
        }

        var many = new InMemoryObjectStore();
        await foreach (var item in one.ListAsync(""))
        {
            var data = (await one.GetAsync(item.Path, ByteRange.All))!.Data;
            await many.PutAsync(item.Path, data, PutMode.Overwrite);
        }

        var rowsByRanges = new List<List<string>>();
        foreach (var (store, ranges) in new[] { (one, 1), (many, 4) })
        {
            var options = Options(seed, embedded: false, subcompactions: ranges);
            await using var compactor = await DbCompactor.OpenAsync(store, "", options);
            var jobs = 0;
            while (await compactor.RunOnceAsync() && jobs < 100)
            {
                jobs++;
            }

            var manifest = (await new ManifestStore(store).ReadLatestAsync(CancellationToken.None))!.Manifest;
            Assert.That(manifest.L0, Is.Empty);
            var rows = new List<string>();
            foreach (var sst in manifest.SortedRuns.Single().Ssts)
            {
                var reader = await SstReader.OpenAsync(store, SstPaths.PathOf(sst.Id), null);
                rows.AddRange((await SstTestHelpers.ReadAllAsync(reader)).Select(r => $"{Encoding.ASCII.GetString(r.Key.Span)}@{r.Sequence}={Encoding.ASCII.GetString(r.Value.Span)}"));
            }

            rowsByRanges.Add(rows);
        }

        Assert.That(rowsByRanges[1], Is.EqualTo(rowsByRanges[0]));
        var keys = rowsByRanges[0].Select(r => r[..r.IndexOf('@')]).ToList();
        Assert.That(keys, Is.EqualTo(model.Keys.ToList()), "one row per live key, every live key");
    }

    [Test]
    public async Task A_second_compactor_fences_the_first_and_the_writer_goes_on()
    {
        var seed = TestSeeds.Get(43);
        var store = new InMemoryObjectStore();
        var options = Options(seed, embedded: false);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using var db = await SlateSharp.Db.OpenAsync(store, "", options);
        await using var first = await DbCompactor.OpenAsync(store, "", options);
        await using var second = await DbCompactor.OpenAsync(store, "", options);
        Assert.That(second.Epoch, Is.GreaterThan(first.Epoch));

        await WriteAsync(db, model, new Random(seed), 3000);
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await first.RunOnceAsync())!;
        Assert.That(error.IsFenced, Is.True, error.Message);
        Assert.That(await second.RunOnceAsync(), Is.True);

        await WriteAsync(db, model, new Random(seed + 1), 1000);
        await AssertMatchesAsync(db, model);
    }

    [Test]
    public async Task The_embedded_compactor_keeps_l0_bounded_under_a_sustained_load()
    {
        var seed = TestSeeds.Get(44);
        var store = new InMemoryObjectStore();
        var options = Options(seed, embedded: true, l0MaxSsts: 4);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using (var db = await SlateSharp.Db.OpenAsync(store, "", options))
        {
            var maxL0 = 0;
            for (var round = 0; round < 10; round++)
            {
                await WriteAsync(db, model, new Random(seed + round), 2000);
                maxL0 = Math.Max(maxL0, db.Manifest.Manifest.L0.Count);
            }

            TestContext.Out.WriteLine($"max l0 seen {maxL0}; compaction {db.CompactionStats}; l0 stall {db.L0StallTime}");
            Assert.That(db.CompactionStats!.Jobs, Is.GreaterThan(2));
            Assert.That(maxL0, Is.LessThanOrEqualTo(options.L0MaxSsts), "the flusher never adds an L0 sst beyond the limit");
            await AssertMatchesAsync(db, model);
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(store, "", options);
        await AssertMatchesAsync(reopened, model);
        Assert.That(reopened.Manifest.Manifest.SortedRuns, Is.Not.Empty);
    }

    internal static CompactionOptions Compaction(bool embedded, int subcompactions = 3) => new()
    {
        Enabled = embedded,
        MinSourcesPerJob = 2,
        MaxSourcesPerJob = 64,
        SizeRatio = 100,
        TargetSstBytes = 8 << 10,
        MaxSubcompactions = subcompactions,
        PollInterval = TimeSpan.FromMilliseconds(10),
        ReadaheadBytes = 4096,
    };

    internal static DbOptions Options(int seed, bool embedded, int l0MaxSsts = 1000, int subcompactions = 3) => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(2),
        MemtableSizeBytes = 16 << 10,
        MaxUnflushedBytes = 256 << 10,
        BlockSizeBytes = 512,
        L0MaxSsts = l0MaxSsts,
        Compaction = Compaction(embedded, subcompactions),
        ManifestPollInterval = TimeSpan.FromMilliseconds(20),
        RandomSeed = seed,
    };

    /// <summary>Puts, overwrites and deletes on a small key space, flushing the memtable now and then.</summary>
    internal static async Task WriteAsync(SlateSharp.Db db, SortedDictionary<string, string> model, Random random, int operations)
    {
        for (var i = 0; i < operations; i++)
        {
            var key = $"key-{random.Next(Keys):D4}";
            if (random.Next(5) == 0)
            {
                await db.DeleteAsync(Encoding.ASCII.GetBytes(key), WriteOptions.NoWait);
                model.Remove(key);
            }
            else
            {
                var value = $"{key}-v{random.Next(1_000_000)}-" + new string('x', random.Next(10, 80));
                await db.PutAsync(Encoding.ASCII.GetBytes(key), Encoding.ASCII.GetBytes(value), WriteOptions.NoWait);
                model[key] = value;
            }
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
    }

    internal static async Task AssertMatchesAsync(SlateSharp.Db db, SortedDictionary<string, string> model)
    {
        var scanned = await db.ScanAsync(KeyRange.All).Select(kv => (Encoding.ASCII.GetString(kv.Key.Span), Encoding.ASCII.GetString(kv.Value.Span))).ToListAsync();
        Assert.That(scanned, Is.EqualTo(model.Select(kv => (kv.Key, kv.Value)).ToList()));
        for (var i = 0; i < Keys; i += 7)
        {
            var key = $"key-{i:D4}";
            var value = await db.GetAsync(Encoding.ASCII.GetBytes(key));
            Assert.That(value is null ? null : Encoding.ASCII.GetString(value), Is.EqualTo(model.GetValueOrDefault(key)), key);
        }
    }
}
