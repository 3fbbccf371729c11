using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.Caching;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Caching;

/// <summary>
/// A database with the disk cache against a model: written, flushed, then read on reopen with a cold block cache,
/// twice. Reads agree with the model both times, and the second cold pass makes no SST GET at all.
/// </summary>
public sealed class DiskCacheDbTests
{
    private TestDirectory _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TestDirectory();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    [Test]
    public async Task Cold_reads_match_the_model_and_the_warm_disk_cache_saves_the_gets()
    {
        var seed = TestSeeds.Get(31);
        var random = new Random(seed);
        var counting = new CountingObjectStore(new InMemoryObjectStore("disk-cache-db"));
        var model = new SortedDictionary<string, byte[]?>(StringComparer.Ordinal);
        await using (var db = await SlateSharp.Db.OpenAsync(counting, "db", Options(withCache: false, seed)))
        {
            for (var i = 0; i < 4000; i++)
            {
                var key = $"key-{random.Next(3000):D5}";
                if (random.Next(10) == 0)
                {
                    await db.DeleteAsync(B(key), WriteOptions.NoWait);
                    model[key] = null;
                }
                else
                {
                    var value = new byte[random.Next(1, 300)];
                    random.NextBytes(value);
                    await db.PutAsync(B(key), value, WriteOptions.NoWait);
                    model[key] = value;
                }
            }

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            Assert.That(db.DiskCacheStats, Is.Null, "no disk cache unless asked for");
        }

        var probes = model.Keys.Concat(Enumerable.Range(0, 200).Select(i => $"absent-{i}")).OrderBy(_ => random.Next()).ToList();
        var coldGets = await ReadPassAsync(counting, probes, model, seed, expectHits: false);
        var warmGets = await ReadPassAsync(counting, probes, model, seed, expectHits: true);

        TestContext.Out.WriteLine($"sst gets: cold disk cache {coldGets}, warm disk cache {warmGets}");
        Assert.That(coldGets, Is.GreaterThan(0));
        Assert.That(warmGets, Is.Zero);

        // A reader on another "machine" with its own cache directory warms its own.
        var readerOptions = new DbReaderOptions
        {
            BlockCacheBytes = 0,
            UseLease = false,
            RandomSeed = seed,
            DiskCache = new DiskCacheOptions { Directory = Path.Combine(_dir.Path, "reader"), MaxBytes = 64 << 20, ChunkSizeBytes = 16 << 10 },
        };
        for (var pass = 0; pass < 2; pass++)
        {
            counting.Reset();
            await using var reader = await DbReader.OpenAsync(counting, "db", readerOptions);
            foreach (var key in probes.Take(500))
            {
                Assert.That(await reader.GetAsync(B(key)), Is.EqualTo(model.GetValueOrDefault(key)), $"reader pass {pass} key {key}");
            }

            Assert.That(reader.DiskCacheStats, Is.Not.Null);
            Assert.That(SstGets(counting), pass == 0 ? Is.GreaterThan(0) : Is.Zero, $"reader pass {pass}");
        }
    }

    [Test]
    public async Task Garbage_collection_in_the_database_drops_the_chunks_of_the_ssts_it_deletes()
    {
        var time = new SlateSharp.Tests.Gc.ShiftedTimeProvider();
        var store = new InMemoryObjectStore("disk-cache-gc", time);
        var options = new DbOptions
        {
            TimeProvider = time,
            FlushInterval = TimeSpan.FromMilliseconds(5),
            RandomSeed = 5,
            DiskCache = new DiskCacheOptions { Directory = _dir.Path, MaxBytes = 1 << 20, ChunkSizeBytes = 4096 },
        };
        await using var db = await SlateSharp.Db.OpenAsync(store, "", options);
        await db.PutAsync(B("a"), B("1"));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var orphan = SlateSharp.Sst.SstPaths.PathOf(SlateSharp.Manifest.SstId.Create(time.GetUtcNow().ToUnixTimeMilliseconds(), new byte[10]));
        await store.PutAsync(orphan, new byte[10_000], PutMode.CreateIfAbsent);
        Assert.That((await db.Store.GetAsync(orphan, ByteRange.FromOffset(0, 100)))!.Data.Length, Is.EqualTo(100));
        var withOrphan = db.DiskCacheStats!.CurrentChunks;
        Assert.That(Directory.GetFiles(Path.Combine(_dir.Path, "objects"), "*.chunk", SearchOption.AllDirectories), Has.Length.EqualTo(withOrphan));
        time.Advance(TimeSpan.FromDays(1));

        var report = await db.RunGarbageCollectionAsync();

        Assert.That(report.Ssts.Paths, Is.EqualTo(new[] { orphan.Value }));
        Assert.That(db.DiskCacheStats!.CurrentChunks, Is.LessThan(withOrphan));
        Assert.That(Directory.GetFiles(Path.Combine(_dir.Path, "objects"), "*.chunk", SearchOption.AllDirectories), Has.Length.EqualTo(db.DiskCacheStats!.CurrentChunks));
        Assert.That(await db.GetAsync(B("a")), Is.EqualTo(B("1")));
    }

    private async Task<int> ReadPassAsync(CountingObjectStore counting, List<string> probes, SortedDictionary<string, byte[]?> model, int seed, bool expectHits)
    {
        counting.Reset();
        await using var db = await SlateSharp.Db.OpenAsync(counting, "db", Options(withCache: true, seed));
        Assert.That(ObjectStoreStack.Find<DiskCachedObjectStore>(db.Store), Is.Not.Null, "garbage collection deletes through the cache");
        foreach (var key in probes)
        {
            Assert.That(await db.GetAsync(B(key)), Is.EqualTo(model.GetValueOrDefault(key)), $"key {key}");
        }

        var scanned = await db.ScanAsync(KeyRange.All).Select(kv => Encoding.UTF8.GetString(kv.Key.Span)).ToListAsync();
        Assert.That(scanned, Is.EqualTo(model.Where(kv => kv.Value is not null).Select(kv => kv.Key).ToList()));
        var stats = db.DiskCacheStats!;
        Assert.That(stats.Enabled, Is.True);
        Assert.That(stats.Hits, expectHits ? Is.GreaterThan(0) : Is.GreaterThanOrEqualTo(0));
        Assert.That(stats.CurrentBytes, Is.GreaterThan(0).And.LessThanOrEqualTo(64 << 20));
        return SstGets(counting);
    }

    private DbOptions Options(bool withCache, int seed) => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(5),
        MemtableSizeBytes = 64 << 10,
        MaxUnflushedBytes = 1 << 20,
        L0MaxSsts = 64,
        BlockCacheBytes = 0,
        Compaction = new CompactionOptions { Enabled = false },
        RandomSeed = seed,
        DiskCache = withCache ? new DiskCacheOptions { Directory = Path.Combine(_dir.Path, "writer"), MaxBytes = 64 << 20, ChunkSizeBytes = 16 << 10 } : null,
    };

    private static int SstGets(CountingObjectStore counting)
    {
        lock (counting.Requests)
        {
            return counting.Requests.Count(r => r.Path.Value.Contains("/compacted/", StringComparison.Ordinal));
        }
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
}
