using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Storage;
using SlateSharp.Storage.Caching;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Caching;

public sealed class DiskCachedObjectStoreTests
{
    private const int Chunk = 4096;

    private TestDirectory _dir = null!;
    private InMemoryObjectStore _memory = null!;
    private CountingObjectStore _counting = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new TestDirectory();
        _memory = new InMemoryObjectStore("disk-cache");
        _counting = new CountingObjectStore(_memory);
    }

    [TearDown]
    public async Task TearDown()
    {
        await _counting.DisposeAsync();
        await _memory.DisposeAsync();
        _dir.Dispose();
    }

    [Test]
    public async Task Second_reads_are_served_from_disk_with_identical_bytes()
    {
        var random = new Random(TestSeeds.Get(11));
        var bytes = await PutAsync("compacted/a.sst", 300_000 + 123, random);
        await using var cache = Open();
        var ranges = Enumerable.Range(0, 200).Select(_ => RandomRange(random, bytes.Length)).ToList();

        foreach (var (offset, length) in ranges)
        {
            await AssertReadsAsync(cache, "compacted/a.sst", offset, length, bytes);
        }

        var firstPassGets = _counting.Gets;
        foreach (var (offset, length) in ranges)
        {
            await AssertReadsAsync(cache, "compacted/a.sst", offset, length, bytes);
        }

        Assert.That(_counting.Gets, Is.EqualTo(firstPassGets), "every chunk of the second pass was read before");
        var stats = cache.Stats();
        Assert.That(stats.Hits, Is.GreaterThan(0));
        Assert.That(stats.BytesServed, Is.GreaterThan(0));
        Assert.That(stats.Misses, Is.GreaterThan(0));
        Assert.That(stats.BytesFetched, Is.GreaterThanOrEqualTo(stats.Misses * 1L));
        Assert.That(stats.Enabled, Is.True);
    }

    [Test]
    public async Task A_suffix_read_of_an_unknown_object_fills_the_chunks_it_covers()
    {
        var bytes = await PutAsync("compacted/tail.sst", 100_001, new Random(3));
        await using (var cache = Open())
        {
            var result = await cache.GetAsync(ObjectPath.Parse("compacted/tail.sst"), ByteRange.Suffix(10_000));
            Assert.That(result!.Offset, Is.EqualTo(bytes.Length - 10_000));
            Assert.That(result.Data.ToArray(), Is.EqualTo(bytes[^10_000..]));
            Assert.That(result.Metadata.Size, Is.EqualTo(bytes.Length));
        }

        _counting.Reset();
        await using (var cache = Open())
        {
            var again = await cache.GetAsync(ObjectPath.Parse("compacted/tail.sst"), ByteRange.Suffix(10_000));
            Assert.That(again!.Data.ToArray(), Is.EqualTo(bytes[^10_000..]));
            Assert.That(again.Offset, Is.EqualTo(bytes.Length - 10_000));
            var head = await _memory.HeadAsync(ObjectPath.Parse("compacted/tail.sst"));
            Assert.That(again.Metadata.Version, Is.EqualTo(head!.Version), "a hit reports the version the store gave");
            Assert.That(again.Metadata.Size, Is.EqualTo(bytes.Length));
        }

        Assert.That(_counting.Gets, Is.Zero, "after a restart the suffix is served from the chunks on disk");
    }

    [Test]
    public async Task Only_cacheable_paths_are_cached()
    {
        var bytes = await PutAsync("manifest/00000000000000000001.manifest", 10_000, new Random(5));
        await using var cache = Open();
        for (var i = 0; i < 3; i++)
        {
            await AssertReadsAsync(cache, "manifest/00000000000000000001.manifest", 0, 100, bytes);
        }

        Assert.That(_counting.Gets, Is.EqualTo(3));
        Assert.That(cache.Stats().CurrentChunks, Is.Zero);
    }

    [Test]
    public async Task The_bound_holds_however_many_objects_are_read()
    {
        var random = new Random(TestSeeds.Get(17));
        const long maxBytes = 64 << 10;
        var objects = new List<(string Path, byte[] Bytes)>();
        for (var i = 0; i < 40; i++)
        {
            var path = $"compacted/{i:D4}.sst";
            objects.Add((path, await PutAsync(path, random.Next(1, 40_000), random)));
        }

        await using var cache = Open(maxBytes);
        for (var round = 0; round < 3; round++)
        {
            foreach (var (path, bytes) in objects)
            {
                var (offset, length) = RandomRange(random, bytes.Length);
                await AssertReadsAsync(cache, path, offset, length, bytes);
                Assert.That(cache.Stats().CurrentBytes, Is.LessThanOrEqualTo(maxBytes));
                Assert.That(DiskBytes(), Is.LessThanOrEqualTo(maxBytes), "the files on disk stay under the bound too");
            }
        }

        var stats = cache.Stats();
        Assert.That(stats.Evictions, Is.GreaterThan(0));
        Assert.That(stats.CurrentBytes, Is.EqualTo(DiskBytes()));
    }

    [Test]
    public async Task A_torn_or_corrupt_chunk_file_is_a_miss_and_is_fetched_again()
    {
        var bytes = await PutAsync("compacted/c.sst", 5 * Chunk, new Random(7));
        await using (var cache = Open())
        {
            await AssertReadsAsync(cache, "compacted/c.sst", 0, bytes.Length / 2, bytes);
            await AssertReadsAsync(cache, "compacted/c.sst", bytes.Length / 2, bytes.Length - (bytes.Length / 2), bytes);
        }

        var files = ChunkFiles();
        Assert.That(files, Has.Length.EqualTo(5));
        var flipped = File.ReadAllBytes(files[1]);
        flipped[flipped.Length / 2] ^= 0x40;
        File.WriteAllBytes(files[1], flipped);
        using (var torn = new FileStream(files[2], FileMode.Open))
        {
            torn.SetLength(torn.Length - 100);
        }

        File.WriteAllBytes(files[3], []);
        _counting.Reset();
        await using (var cache = Open())
        {
            await AssertReadsAsync(cache, "compacted/c.sst", 0, bytes.Length, bytes);
            Assert.That(cache.Stats().Corrupt, Is.EqualTo(3));
            Assert.That(cache.Stats().Hits, Is.EqualTo(2));
            Assert.That(_counting.Gets, Is.EqualTo(1), "the three bad chunks are one contiguous run: one GET");
            _counting.Reset();
            await AssertReadsAsync(cache, "compacted/c.sst", 0, bytes.Length, bytes);
            Assert.That(_counting.Gets, Is.Zero, "the refetched chunks were written back");
        }
    }

    [Test]
    public async Task A_hit_reads_only_the_pages_it_needs_and_a_corrupt_page_is_a_miss_once_read()
    {
        const int chunk = 4 * ChunkFile.PageSize;
        var bytes = await PutAsync("compacted/p.sst", 2 * chunk, new Random(TestSeeds.Get(17)));
        await using (var cache = Open(chunk: chunk))
        {
            await AssertReadsAsync(cache, "compacted/p.sst", 0, bytes.Length, bytes);
        }

        // Flip a byte in the third page of the first chunk's bytes.
        var file = ChunkFiles()[0];
        var contents = File.ReadAllBytes(file);
        var dataStart = contents.Length - chunk;
        contents[dataStart + (2 * ChunkFile.PageSize) + 100] ^= 0x10;
        File.WriteAllBytes(file, contents);
        _counting.Reset();
        await using (var cache = Open(chunk: chunk))
        {
            await AssertReadsAsync(cache, "compacted/p.sst", 10, 3000, bytes);
            await AssertReadsAsync(cache, "compacted/p.sst", ChunkFile.PageSize - 10, 20, bytes);
            Assert.That(cache.Stats().Hits, Is.EqualTo(2), "the first two pages are intact and served");
            Assert.That(cache.Stats().BytesServed, Is.EqualTo(ChunkFile.PageSize + (2 * ChunkFile.PageSize)), "one page, then the two a read across their boundary needs");
            Assert.That(_counting.Gets, Is.Zero);

            await AssertReadsAsync(cache, "compacted/p.sst", (2 * ChunkFile.PageSize) + 50, 100, bytes);
            Assert.That(cache.Stats().Corrupt, Is.EqualTo(1), "the page read failed its checksum: the file is dropped");
            Assert.That(_counting.Gets, Is.EqualTo(1), "and the chunk fetched again");

            _counting.Reset();
            await AssertReadsAsync(cache, "compacted/p.sst", 0, chunk, bytes);
            Assert.That(_counting.Gets, Is.Zero, "the refetched chunk was written back whole");
        }
    }

    [Test]
    public async Task A_chunk_file_of_another_object_under_the_right_name_is_not_served()
    {
        var a = await PutAsync("compacted/a.sst", 2 * Chunk, new Random(1));
        var b = await PutAsync("compacted/b.sst", 2 * Chunk, new Random(2));
        string aFile;
        await using (var cache = Open())
        {
            await AssertReadsAsync(cache, "compacted/a.sst", 0, a.Length, a);
            aFile = ChunkFiles().Single(f => f.EndsWith("0.chunk", StringComparison.Ordinal));
            await AssertReadsAsync(cache, "compacted/b.sst", 0, b.Length, b);
        }

        // A hash collision, in effect: b's chunk 0 replaced by a's (a valid file, with a's key inside).
        var bFile = ChunkFiles().Single(f => f.EndsWith("0.chunk", StringComparison.Ordinal) && f != aFile);
        File.Copy(aFile, bFile, overwrite: true);
        await using (var cache = Open())
        {
            await AssertReadsAsync(cache, "compacted/b.sst", 0, b.Length, b);
        }
    }

    [Test]
    public async Task Chunks_cut_with_another_chunk_size_are_never_misread()
    {
        // Size 5 * 4 KiB: with 16 KiB chunks the last is exactly 4 KiB long, as every 4 KiB chunk is.
        var bytes = await PutAsync("compacted/resized.sst", 5 * Chunk, new Random(21));
        await using (var big = DiskCachedObjectStore.Open(
            _counting, null, new DiskCacheOptions { Directory = _dir.Path, MaxBytes = 1 << 20, ChunkSizeBytes = 4 * Chunk }, SlateSharp.Sst.SstDiskCache.IsSst, NullLogger.Instance))
        {
            await AssertReadsAsync(big, "compacted/resized.sst", 0, bytes.Length, bytes);
        }

        await using var small = Open();
        for (var offset = 0; offset < bytes.Length; offset += Chunk)
        {
            await AssertReadsAsync(small, "compacted/resized.sst", offset, Chunk, bytes);
        }
    }

    [Test]
    public async Task Reopening_rebuilds_the_index_from_the_directory()
    {
        var random = new Random(TestSeeds.Get(23));
        var objects = new List<(string Path, byte[] Bytes)>();
        for (var i = 0; i < 5; i++)
        {
            objects.Add(($"compacted/{i}.sst", await PutAsync($"compacted/{i}.sst", random.Next(Chunk, 10 * Chunk), random)));
        }

        DiskCacheStats before;
        await using (var cache = Open())
        {
            foreach (var (path, bytes) in objects)
            {
                await AssertReadsAsync(cache, path, 0, bytes.Length, bytes);
            }

            before = cache.Stats();
        }

        // A crash mid-write leaves a temporary file; the next open removes it.
        File.WriteAllBytes(Path.Combine(_dir.Path, "tmp", "999-1.tmp"), [1, 2, 3]);
        _counting.Reset();
        await using (var cache = Open())
        {
            Assert.That(cache.Stats().CurrentChunks, Is.EqualTo(before.CurrentChunks));
            Assert.That(cache.Stats().CurrentBytes, Is.EqualTo(before.CurrentBytes));
            Assert.That(Directory.GetFiles(Path.Combine(_dir.Path, "tmp")), Is.Empty);
            foreach (var (path, bytes) in objects)
            {
                await AssertReadsAsync(cache, path, 0, bytes.Length, bytes);
            }

            Assert.That(_counting.Gets, Is.Zero);
        }

        await using (var smaller = Open(maxBytes: 3 * Chunk))
        {
            Assert.That(smaller.Stats().CurrentBytes, Is.LessThanOrEqualTo(3 * Chunk), "a smaller bound evicts at open");
            Assert.That(DiskBytes(), Is.EqualTo(smaller.Stats().CurrentBytes));
        }
    }

    [Test]
    public async Task Deleting_an_object_through_the_store_drops_its_chunks()
    {
        var bytes = await PutAsync("compacted/gone.sst", 3 * Chunk, new Random(9));
        var kept = await PutAsync("compacted/kept.sst", 3 * Chunk, new Random(10));
        await using var cache = Open();
        await AssertReadsAsync(cache, "compacted/gone.sst", 0, bytes.Length, bytes);
        await AssertReadsAsync(cache, "compacted/kept.sst", 0, kept.Length, kept);

        await cache.DeleteAsync(ObjectPath.Parse("compacted/gone.sst"));

        Assert.That(cache.Stats().CurrentChunks, Is.EqualTo(3));
        Assert.That(ChunkFiles(), Has.Length.EqualTo(3));
        Assert.That(await cache.GetAsync(ObjectPath.Parse("compacted/gone.sst"), ByteRange.FromOffset(0, 10)), Is.Null);
    }

    [Test]
    public async Task An_object_deleted_behind_the_cache_reads_as_missing_and_its_chunks_go()
    {
        var bytes = await PutAsync("compacted/x.sst", 3 * Chunk, new Random(4));
        await using var cache = Open();
        await AssertReadsAsync(cache, "compacted/x.sst", 0, Chunk, bytes);
        await _memory.DeleteAsync(ObjectPath.Parse("compacted/x.sst"));

        Assert.That(await cache.GetAsync(ObjectPath.Parse("compacted/x.sst"), ByteRange.FromOffset(Chunk, 10)), Is.Null);
        Assert.That(cache.Stats().CurrentChunks, Is.Zero);
    }

    [Test]
    public async Task A_directory_that_cannot_be_created_passes_everything_through()
    {
        var bytes = await PutAsync("compacted/p.sst", 3 * Chunk, new Random(12));
        var file = Path.Combine(_dir.Path, "a-file");
        File.WriteAllBytes(file, [0]);
        await using var cache = DiskCachedObjectStore.Open(
            _counting, null, new DiskCacheOptions { Directory = Path.Combine(file, "cache"), MaxBytes = 1 << 20, ChunkSizeBytes = Chunk }, SlateSharp.Sst.SstDiskCache.IsSst, NullLogger.Instance);

        Assert.That(cache.Enabled, Is.False);
        await AssertReadsAsync(cache, "compacted/p.sst", 10, 5000, bytes);
        await AssertReadsAsync(cache, "compacted/p.sst", 10, 5000, bytes);
        Assert.That(_counting.Gets, Is.EqualTo(2));
        Assert.That(cache.Stats().Enabled, Is.False);
    }

    [Test]
    public async Task A_cache_directory_that_fails_after_open_degrades_to_passthrough()
    {
        var bytes = await PutAsync("compacted/f.sst", 8 * Chunk, new Random(13));
        await using var cache = Open();
        await AssertReadsAsync(cache, "compacted/f.sst", 0, 2 * Chunk, bytes);

        // Replace the whole directory with a regular file: every read and write of it fails, even as root.
        Directory.Delete(_dir.Path, recursive: true);
        File.WriteAllBytes(_dir.Path, [0]);
        try
        {
            await AssertReadsAsync(cache, "compacted/f.sst", 0, bytes.Length, bytes);
            await AssertReadsAsync(cache, "compacted/f.sst", 100, 3 * Chunk, bytes);
            await cache.DeleteAsync(ObjectPath.Parse("compacted/f.sst"));
            Assert.That(cache.Stats().DiskErrors, Is.GreaterThan(0));
        }
        finally
        {
            File.Delete(_dir.Path);
            Directory.CreateDirectory(_dir.Path);
        }
    }

    [Test]
    public async Task A_directory_in_use_by_another_cache_is_refused()
    {
        await using var first = Open();
        var e = Assert.Throws<SlateSharpException>(() => Open());
        Assert.That(e!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(e.Message, Does.Contain("in use"));
        await first.DisposeAsync();
        await using var again = Open();
        Assert.That(again.Enabled, Is.True, "disposing releases the lock");
    }

    [Test]
    public async Task Parallel_reads_of_one_chunk_make_one_fetch()
    {
        var bytes = await PutAsync("compacted/hot.sst", 10 * Chunk, new Random(14));
        var gate = new GetGate(_counting);
        await using var cache = DiskCachedObjectStore.Open(
            gate, null, new DiskCacheOptions { Directory = _dir.Path, MaxBytes = 1 << 20, ChunkSizeBytes = Chunk }, SlateSharp.Sst.SstDiskCache.IsSst, NullLogger.Instance);
        await AssertReadsAsync(cache, "compacted/hot.sst", 0, 100, bytes);
        _counting.Reset();

        gate.Close();
        // Each call runs synchronously up to its wait (on the store for the first, on the first's fetch for the rest).
        var reads = Enumerable.Range(0, 16).Select(i => cache.GetAsync(ObjectPath.Parse("compacted/hot.sst"), ByteRange.FromOffset((5 * Chunk) + (i * 10), 100)).AsTask()).ToList();
        Assert.That(_counting.Gets, Is.EqualTo(1));
        gate.Open();
        var results = await Task.WhenAll(reads);

        for (var i = 0; i < results.Length; i++)
        {
            var offset = (5 * Chunk) + (i * 10);
            Assert.That(results[i]!.Data.ToArray(), Is.EqualTo(bytes[offset..(offset + 100)]));
        }

        Assert.That(_counting.Gets, Is.EqualTo(1));
        Assert.That(cache.Stats().Misses, Is.EqualTo(1 + 1), "one chunk on the first read, one for the sixteen");
    }

    [Test]
    public async Task Long_scans_are_passed_through_without_filling()
    {
        var bytes = await PutAsync("compacted/big.sst", 2 << 20, new Random(15));
        await using var cache = Open(maxBytes: 8 << 20);
        await AssertReadsAsync(cache, "compacted/big.sst", 0, 100, bytes);
        var chunks = cache.Stats().CurrentChunks;

        await AssertReadsAsync(cache, "compacted/big.sst", Chunk, 1 << 20, bytes);

        Assert.That(cache.Stats().CurrentChunks, Is.EqualTo(chunks));
        Assert.That(cache.Stats().PassedThrough, Is.EqualTo(1));
    }

    [Test]
    public async Task Reads_into_a_callers_buffer_land_there_whether_unknown_missed_hit_or_passed_through()
    {
        var seed = TestSeeds.Get(17);
        var random = new Random(seed);
        var bytes = await PutAsync("compacted/into.sst", (2 << 20) + 321, random);
        var other = await PutAsync("wal/00000000000000000001.wal", 5000, random);
        await using var cache = Open(maxBytes: 8 << 20);
        Assert.That(ReadsInto.ReadsInPlace(cache), Is.True);

        // Unknown (the first read of the object), then misses of a known one, then the same ranges again as hits.
        var ranges = Enumerable.Range(0, 40).Select(_ => RandomRange(random, bytes.Length)).Prepend((100, 50)).ToList();
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var (offset, length) in ranges)
            {
                await AssertReadsIntoAsync(cache, "compacted/into.sst", offset, length, bytes, $"seed={seed} pass={pass}");
            }
        }

        Assert.That(cache.Stats().Hits, Is.GreaterThan(0), $"seed={seed}");
        var passedThrough = cache.Stats().PassedThrough;
        await AssertReadsIntoAsync(cache, "compacted/into.sst", 3 * Chunk + 5, 1 << 20, bytes, "a long scan");
        Assert.That(cache.Stats().PassedThrough, Is.EqualTo(passedThrough + 1), "the long scan was passed through");
        await AssertReadsIntoAsync(cache, "compacted/into.sst", bytes.Length - 10, 100, bytes, "past the end");
        await AssertReadsIntoAsync(cache, "wal/00000000000000000001.wal", 7, 4000, other, "a path the cache does not keep");
        Assert.That(await ReadsInto.GetIntoAsync(cache, ObjectPath.Parse("compacted/none.sst"), 0, new byte[10]), Is.Null);
    }

    private static async Task AssertReadsIntoAsync(IObjectStore store, string path, long offset, int length, byte[] bytes, string what)
    {
        var buffer = new byte[length + 16];
        var result = await ReadsInto.GetIntoAsync(store, ObjectPath.Parse(path), offset, buffer.AsMemory(8, length));
        var expected = bytes[(int)offset..(int)Math.Min(bytes.Length, offset + length)];
        Assert.That(result, Is.Not.Null, what);
        Assert.That((result!.Offset, result.Metadata.Size), Is.EqualTo((offset, (long)bytes.Length)), what);
        Assert.That(result.Data.ToArray(), Is.EqualTo(expected), $"{what}: {path} at {offset}+{length}");
        Assert.That(buffer.AsSpan(8, expected.Length).ToArray(), Is.EqualTo(expected), $"{what}: the bytes are in the caller's buffer");
        Assert.That(buffer.AsSpan(0, 8).ToArray(), Is.All.Zero, $"{what}: nothing before it was written");
    }

    [Test]
    public async Task Ranges_at_and_beyond_the_end_behave_as_the_store_does()
    {
        var bytes = await PutAsync("compacted/e.sst", Chunk + 10, new Random(16));
        await using var cache = Open();
        await AssertReadsAsync(cache, "compacted/e.sst", Chunk, 1000, bytes);
        await AssertReadsAsync(cache, "compacted/e.sst", 0, bytes.Length + 5000, bytes);
        var all = await cache.GetAsync(ObjectPath.Parse("compacted/e.sst"), ByteRange.All);
        Assert.That(all!.Data.ToArray(), Is.EqualTo(bytes));
        var e = Assert.ThrowsAsync<SlateSharpException>(async () => await cache.GetAsync(ObjectPath.Parse("compacted/e.sst"), ByteRange.FromOffset(bytes.Length + 1, 1)));
        Assert.That(e!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(await cache.GetAsync(ObjectPath.Parse("compacted/none.sst"), ByteRange.Suffix(100)), Is.Null);
    }

    [TestCase(0L, 65536, "MaxBytes must be positive")]
    [TestCase(1L << 20, 5000, "ChunkSizeBytes must be a power of two")]
    [TestCase(1L << 20, 1024, "ChunkSizeBytes must be a power of two")]
    [TestCase(8192L, 65536, "must not exceed DiskCache.MaxBytes")]
    public void Invalid_options_fail_at_open(long maxBytes, int chunk, string message)
    {
        var options = new DbOptions { DiskCache = new DiskCacheOptions { Directory = _dir.Path, MaxBytes = maxBytes, ChunkSizeBytes = chunk } };
        var e = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(_memory, "db", options));
        Assert.That(e!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(e.Message, Does.Contain(message));
        var reader = new DbReaderOptions { DiskCache = options.DiskCache };
        var r = Assert.ThrowsAsync<SlateSharpException>(async () => await DbReader.OpenAsync(_memory, "db", reader));
        Assert.That(r!.Message, Does.Contain("invalid reader options: DiskCache."));
    }

    [Test]
    public void A_missing_directory_option_fails_at_open()
    {
        var options = new DbOptions { DiskCache = new DiskCacheOptions { Directory = " ", MaxBytes = 1 << 20 } };
        var e = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(_memory, "db", options));
        Assert.That(e!.Message, Does.Contain("DiskCache.Directory must be set"));
    }

    private DiskCachedObjectStore Open(long maxBytes = 1 << 20, int chunk = Chunk) =>
        DiskCachedObjectStore.Open(
            _counting, null, new DiskCacheOptions { Directory = _dir.Path, MaxBytes = maxBytes, ChunkSizeBytes = chunk }, SlateSharp.Sst.SstDiskCache.IsSst, NullLogger.Instance);

    private async Task<byte[]> PutAsync(string path, int length, Random random)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        await _memory.PutAsync(ObjectPath.Parse(path), bytes, PutMode.Overwrite);
        return bytes;
    }

    private static (long Offset, int Length) RandomRange(Random random, int size)
    {
        var offset = random.Next(size);
        return (offset, random.Next(1, Math.Min(size - offset, 3 * Chunk) + 1));
    }

    private static async Task AssertReadsAsync(IObjectStore store, string path, long offset, int length, byte[] bytes)
    {
        var result = await store.GetAsync(ObjectPath.Parse(path), ByteRange.FromOffset(offset, length));
        var end = (int)Math.Min(bytes.Length, offset + length);
        Assert.That(result, Is.Not.Null);
        Assert.That(result!.Offset, Is.EqualTo(offset));
        Assert.That(result.Metadata.Size, Is.EqualTo(bytes.Length));
        Assert.That(result.Data.ToArray(), Is.EqualTo(bytes[(int)offset..end]), $"bytes of {path} at {offset}+{length}");
    }

    private string[] ChunkFiles() =>
        Directory.GetFiles(Path.Combine(_dir.Path, "objects"), "*.chunk", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    private long DiskBytes() => ChunkFiles().Sum(f => new FileInfo(f).Length);

    /// <summary>Holds every GET at a gate while closed; the test opens it. No timing involved.</summary>
    private sealed class GetGate(IObjectStore inner) : IObjectStore
    {
        private TaskCompletionSource _open = CompletedSource();

        public string Location => inner.Location;

        public void Close() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.TrySetResult();

        public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.HeadAsync(path, cancellationToken);

        public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default)
        {
            var result = inner.GetAsync(path, range, cancellationToken);
            await _open.Task;
            return await result;
        }

        public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
            inner.PutAsync(path, content, options, cancellationToken);

        public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
            inner.PutAsync(path, content, options, cancellationToken);

        public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);

        private static TaskCompletionSource CompletedSource()
        {
            var source = new TaskCompletionSource();
            source.SetResult();
            return source;
        }
    }
}
