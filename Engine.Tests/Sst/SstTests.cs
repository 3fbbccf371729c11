using System.Runtime.InteropServices;
using System.Text;
using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

public sealed class SstTests
{
    private static readonly SstBuilderOptions SmallBlocks = new() { BlockSize = 256 };

    private static byte[] Key(string text) => Encoding.ASCII.GetBytes(text);

    [Test]
    public async Task Random_rows_round_trip_with_every_codec([Values] CompressionCodec codec)
    {
        var seed = TestSeeds.Get(51 + (int)codec);
        var rows = TestRows.Random(new Random(seed), 2000, 3);
        var (reader, _, info) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks with { Codec = codec });

        Assert.That(await SstTestHelpers.ReadAllAsync(reader), Is.EqualTo(rows), $"seed={seed}");
        Assert.That(reader.Info, Is.EqualTo(info).Using<SstInfo>(SameInfo));
        Assert.That(info.FirstKey, Is.EqualTo(rows[0].Key.ToArray()));
        Assert.That(info.LastKey, Is.EqualTo(rows[^1].Key.ToArray()));
        Assert.That(info.EntryCount, Is.EqualTo(rows.Count));
        Assert.That((info.MinSequence, info.MaxSequence), Is.EqualTo((rows.Min(r => r.Sequence), rows.Max(r => r.Sequence))));
        Assert.That((info.PutCount, info.DeleteCount, info.MergeCount), Is.EqualTo((
            rows.LongCount(r => r.Kind == RowKind.Put), rows.LongCount(r => r.Kind == RowKind.Delete), rows.LongCount(r => r.Kind == RowKind.Merge))));
        Assert.That((info.Codec, info.HasFilter, info.FormatVersion), Is.EqualTo((codec, true, SstFormat.CurrentVersion)));
        Assert.That(info.BlockCount, Is.GreaterThan(50));
    }

    private static bool SameInfo(SstInfo a, SstInfo b) =>
        a with { FirstKey = [], LastKey = [] } == b with { FirstKey = [], LastKey = [] } &&
        a.FirstKey.AsSpan().SequenceEqual(b.FirstKey) && a.LastKey.AsSpan().SequenceEqual(b.LastKey);

    [Test]
    public async Task Blocks_read_ahead_stay_intact_after_their_read_buffer_is_reused()
    {
        // Readahead reads land in a pooled buffer that the next read reuses: each block must own its bytes.
        var seed = TestSeeds.Get(57);
        var random = new Random(seed);
        var (first, _, _) = await SstTestHelpers.BuildAndOpenAsync(TestRows.Random(random, 600, 2), SmallBlocks);
        var (second, _, _) = await SstTestHelpers.BuildAndOpenAsync(TestRows.Random(random, 600, 2), SmallBlocks);
        var expected = await SstTestHelpers.ReadAllAsync(first);

        var blocks = await first.ReadBlocksAsync(0, 1 << 20);
        Assert.That(blocks, Has.Length.EqualTo(first.Index.Count), "the whole SST fits in one readahead");
        for (var round = 0; round < 4; round++)
        {
            _ = await second.ReadBlocksAsync(0, 1 << 20);
        }

        var rows = new List<RowEntry>();
        foreach (var block in blocks)
        {
            var it = new BlockIterator(block);
            while (it.MoveNext())
            {
                rows.Add(it.Current);
            }
        }

        Assert.That(rows, Is.EqualTo(expected), $"seed={seed}");
    }

    [TestCase(CompressionCodec.None, true)]
    [TestCase(CompressionCodec.None, false)]
    [TestCase(CompressionCodec.Lz4, true)]
    [TestCase(CompressionCodec.Lz4, false)]
    public async Task Blocks_bound_for_the_cache_live_on_the_pinned_heap_and_keep_their_rows(CompressionCodec codec, bool storeReadsInPlace)
    {
        // A cached block is old from the start (the pinned object heap reports the oldest generation), so cache
        // misses do not promote it twice; read straight into it, or copied out of a pooled buffer the next read reuses.
        var seed = TestSeeds.Get(58);
        var rows = TestRows.Random(new Random(seed), 600, 2);
        var (bytes, _) = await SstTestHelpers.BuildAsync(rows, SmallBlocks with { Codec = codec });
        var inner = new SlateSharp.Storage.InMemory.InMemoryObjectStore();
        IObjectStore store = storeReadsInPlace ? inner : new CountingObjectStore(inner);
        var path = ObjectPath.Parse("compacted/test.sst");
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var reader = await SstReader.OpenAsync(store, path, new BlockCache(1 << 20));
        Assert.That(ReadsInto.ReadsInPlace(store), Is.EqualTo(storeReadsInPlace));

        var blocks = new List<Block>();
        for (var i = 0; i < reader.Index.Count; i++)
        {
            blocks.Add(await reader.ReadBlockAsync(i));
        }

        var read = new List<RowEntry>();
        foreach (var block in blocks)
        {
            Assert.That(MemoryMarshal.TryGetArray(block.Data, out var segment), Is.True);
            Assert.That(GC.GetGeneration(segment.Array!), Is.EqualTo(GC.MaxGeneration), $"block at {block.Offset} seed={seed}");
            var it = new BlockIterator(block);
            while (it.MoveNext())
            {
                read.Add(it.Current);
            }
        }

        Assert.That(read, Is.EqualTo(rows), $"seed={seed}");
    }

    [Test]
    public async Task Reverse_scans_return_the_rows_backwards()
    {
        var rows = TestRows.Random(new Random(TestSeeds.Get(61)), 500, 2);
        var (reader, _, _) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks);
        var it = reader.CreateIterator();
        var backward = new List<RowEntry>();
        while (await it.MovePreviousAsync())
        {
            backward.Add(it.Current);
        }

        Assert.That(backward, Is.EqualTo(Enumerable.Reverse(rows)));
    }

    [Test]
    public async Task Seeks_read_exactly_one_block_at_every_edge()
    {
        var rows = TestRows.Sequential(400, valueLength: 20);
        var (reader, store, _) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks);
        Assert.That(reader.Index.Count, Is.GreaterThan(10));

        // Between blocks: a key after the last key of block 3 and before the first key of block 4.
        var lastOfBlock3 = Encoding.ASCII.GetString(reader.Index.LastKeyOf(3));
        var firstOfBlock4 = rows.First(r => r.Key.Span.SequenceCompareTo(reader.Index.LastKeyOf(3)) > 0);
        var cases = new (string Target, string? Expected)[]
        {
            ("a", "key-000000"),
            ("key-000000", "key-000000"),
            ("key-000123", "key-000123"),
            (lastOfBlock3, lastOfBlock3),
            (lastOfBlock3 + "\0", Encoding.ASCII.GetString(firstOfBlock4.Key.Span)),
            ("key-000399", "key-000399"),
            ("key-0003999", null),
            ("zzz", null),
        };
        foreach (var (target, expected) in cases)
        {
            store.Reset();
            var it = reader.CreateIterator();
            var found = await it.SeekAsync(Key(target));
            Assert.That(found ? Encoding.ASCII.GetString(it.CurrentKey) : null, Is.EqualTo(expected), target);
            Assert.That(store.Gets, Is.EqualTo(expected is null ? 0 : 1), $"requests for seek to {target}");
        }
    }

    [Test]
    public async Task SeekForPrevious_positions_for_reverse_scans()
    {
        var rows = TestRows.Sequential(300);
        var (reader, _, _) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks);
        var it = reader.CreateIterator();
        Assert.That(await it.SeekForPreviousAsync(Key("a")), Is.False);
        Assert.That(await it.SeekForPreviousAsync(Key("key-000150x")), Is.True);
        Assert.That(Encoding.ASCII.GetString(it.CurrentKey), Is.EqualTo("key-000150"));
        Assert.That(await it.MovePreviousAsync(), Is.True);
        Assert.That(Encoding.ASCII.GetString(it.CurrentKey), Is.EqualTo("key-000149"));
        Assert.That(await it.SeekForPreviousAsync(Key("zzz")), Is.True);
        Assert.That(Encoding.ASCII.GetString(it.CurrentKey), Is.EqualTo("key-000299"));
        Assert.That(await it.MoveNextAsync(), Is.False);
    }

    [Test]
    public async Task Get_returns_the_newest_visible_version_including_tombstones()
    {
        // One key with 100 versions spans many 256-byte blocks.
        var rows = new List<RowEntry> { RowEntry.Put(Key("a"), Key("first"), 1) };
        for (var seq = 200UL; seq >= 101; seq--)
        {
            rows.Add(seq % 10 == 0 ? RowEntry.Delete(Key("m"), seq) : RowEntry.Put(Key("m"), Encoding.ASCII.GetBytes($"v{seq}"), seq));
        }

        rows.Add(RowEntry.Put(Key("z"), Key("last"), 2));
        var (reader, store, info) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks);
        Assert.That(info.BlockCount, Is.GreaterThan(5));

        Assert.That((await reader.GetAsync(Key("m")))?.Kind, Is.EqualTo(RowKind.Delete));
        Assert.That((await reader.GetAsync(Key("m")))?.Sequence, Is.EqualTo(200));
        store.Reset();
        var visible = await reader.GetAsync(Key("m"), maxSequence: 155);
        Assert.That((visible?.Sequence, Encoding.ASCII.GetString(visible!.Value.Value.Span)), Is.EqualTo(((ulong?)155, "v155")));
        Assert.That(store.Gets, Is.EqualTo(1));
        Assert.That(await reader.GetAsync(Key("m"), maxSequence: 100), Is.Null);
        Assert.That((await reader.GetAsync(Key("a")))?.Value.ToArray(), Is.EqualTo(Key("first")));
        Assert.That((await reader.GetAsync(Key("z")))?.Value.ToArray(), Is.EqualTo(Key("last")));

        store.Reset();
        Assert.That(await reader.GetAsync(Key("0")), Is.Null);
        Assert.That(await reader.GetAsync(Key("zz")), Is.Null);
        Assert.That(store.Gets, Is.Zero, "keys outside the sst's range need no read");

        var it = reader.CreateIterator();
        Assert.That(await it.SeekAsync(Key("m"), 150), Is.True);
        Assert.That(it.CurrentSequence, Is.EqualTo(150));
        var seen = new List<ulong>();
        do
        {
            seen.Add(it.CurrentSequence);
        }
        while (await it.MoveNextAsync() && it.CurrentKey.SequenceEqual(Key("m")));
        Assert.That(seen, Is.EqualTo(Enumerable.Range(101, 50).Select(s => (ulong)s).Reverse()));
    }

    [Test]
    public async Task Values_larger_than_a_block_get_a_block_of_their_own()
    {
        var random = new Random(TestSeeds.Get(71));
        var big = new byte[100_000];
        random.NextBytes(big);
        var rows = new List<RowEntry> { RowEntry.Put(Key("a"), Key("small"), 1), RowEntry.Put(Key("b"), big, 2), RowEntry.Put(Key("c"), big.AsMemory(0, 5000), 3) };
        var (reader, _, info) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks with { Codec = CompressionCodec.Zstd });
        Assert.That(info.BlockCount, Is.EqualTo(3));
        Assert.That(await SstTestHelpers.ReadAllAsync(reader), Is.EqualTo(rows));
        Assert.That((await reader.GetAsync(Key("b")))?.Value.ToArray(), Is.EqualTo(big));
    }

    [Test]
    public async Task Opening_takes_one_read_when_the_tail_fits_and_two_when_it_does_not_then_one_read_per_block()
    {
        var rows = TestRows.Sequential(5000, valueLength: 30);
        var (bytes, info) = await SstTestHelpers.BuildAsync(rows, SmallBlocks);
        var store = new CountingObjectStore(new SlateSharp.Storage.InMemory.InMemoryObjectStore());
        var path = ObjectPath.Parse("compacted/01JD5ZZZZZZZZZZZZZZZZZZZZZ.sst");
        await store.PutAsync(path, bytes, PutMode.Overwrite);

        var small = await SstReader.OpenAsync(store, path, null, tailReadSize: 1024);
        Assert.That(store.Gets, Is.EqualTo(2), "the index of ~700 blocks does not fit in 1 KiB");
        Assert.That(small.Info.EntryCount, Is.EqualTo(5000));

        store.Reset();
        var cache = new BlockCache(64 << 20);
        var reader = await SstReader.OpenAsync(store, path, cache, tailReadSize: 1 << 20);
        Assert.That(store.Gets, Is.EqualTo(1));

        store.Reset();
        Assert.That(await SstTestHelpers.ReadAllAsync(reader), Is.EqualTo(rows));
        Assert.That(store.Gets, Is.EqualTo(info.BlockCount), "one ranged read per block");
        Assert.That(store.Requests.All(r => !r.Range.IsSuffix && r.Range.Length > 0), Is.True);

        store.Reset();
        Assert.That(await SstTestHelpers.ReadAllAsync(reader), Is.EqualTo(rows));
        Assert.That(store.Gets, Is.Zero, "the second scan is served by the block cache");
        Assert.That(cache.Hits, Is.EqualTo(info.BlockCount));
        Assert.That(cache.Misses, Is.EqualTo(info.BlockCount));
    }

    [Test]
    public async Task The_bloom_filter_saves_reads_for_absent_keys()
    {
        var rows = TestRows.Sequential(2000);
        var (reader, store, _) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks);
        store.Reset();
        for (var i = 0; i < 1000; i++)
        {
            Assert.That(await reader.GetAsync(Key($"key-{i:D6}x")), Is.Null);
        }

        Assert.That(store.Gets, Is.LessThan(50));
        Assert.That(rows.All(r => reader.MayContain(r.Key.Span)), Is.True);

        var (unfiltered, _, info) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks with { BloomBitsPerKey = 0 });
        Assert.That((info.HasFilter, unfiltered.MayContain(Key("nope"))), Is.EqualTo((false, true)));
        Assert.That(await SstTestHelpers.ReadAllAsync(unfiltered), Is.EqualTo(rows));
    }

    [Test]
    public async Task A_reader_opened_for_one_pass_reads_every_row_without_its_filter()
    {
        var rows = TestRows.Sequential(2000);
        var (filtered, store, info) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks);
        var pass = await SstReader.OpenForPassAsync(store, ObjectPath.Parse("compacted/test.sst"), cache: null);

        Assert.That(info.HasFilter, Is.True);
        Assert.That(filtered.MayContain(Key("nope")), Is.False, "the cached kind of reader rules the key out");
        Assert.That(pass.MayContain(Key("nope")), Is.True, "a pass reader has no filter to ask");
        Assert.That(pass.MemorySize, Is.LessThan(filtered.MemorySize));
        Assert.That(await SstTestHelpers.ReadAllAsync(pass), Is.EqualTo(rows));
        Assert.That(await pass.GetAsync(rows[1234].Key), Is.EqualTo(rows[1234]));
    }

    [Test]
    public async Task An_empty_sst_is_rejected()
    {
        using var stream = new MemoryStream();
        using var builder = new SstBuilder(SstBuilderOptions.Default, stream);
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await builder.FinishAsync())!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Internal));
    }

    [Test]
    public void Rows_out_of_order_or_repeated_are_internal_errors()
    {
        using var builder = new SstBuilder(SstBuilderOptions.Default, new MemoryStream());
        builder.Add(Key("b"), default, 5, RowKind.Put, null);
        Assert.That(() => builder.Add(Key("a"), default, 9, RowKind.Put, null), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Internal));
        Assert.That(() => builder.Add(Key("b"), default, 5, RowKind.Put, null), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Internal));
        Assert.That(() => builder.Add(Key("b"), default, 6, RowKind.Put, null), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Internal));
        Assert.That(builder.Add(Key("b"), default, 4, RowKind.Put, null), Is.False);
        Assert.That(() => builder.Add([], default, 1, RowKind.Put, null), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Invalid));
        Assert.That(() => new SstBuilder(new SstBuilderOptions { BlockSize = 1 }, new MemoryStream()), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Invalid));
    }

    [Test]
    public async Task The_builder_streams_blocks_and_keeps_little_in_memory()
    {
        var options = new SstBuilderOptions { BlockSize = 4096, FlushThreshold = 64 << 10 };
        var stream = new WriteOnlyCountingStream();
        using var builder = new SstBuilder(options, stream);
        var value = new byte[100];
        var maxPending = 0;
        for (var i = 0; i < 80_000; i++)
        {
            await builder.AddAsync(RowEntry.Put(Encoding.ASCII.GetBytes($"key-{i:D8}"), value, 1));
            maxPending = Math.Max(maxPending, builder.PendingBytes);
        }

        var writtenBeforeFinish = stream.Length;
        var info = await builder.FinishAsync();
        Assert.That(info.SizeBytes, Is.GreaterThan(8_000_000));
        Assert.That(writtenBeforeFinish, Is.GreaterThan(info.SizeBytes - (1 << 20)), "blocks reach the stream as they fill");
        Assert.That(maxPending, Is.LessThan(options.FlushThreshold + options.BlockSize + 64));
        Assert.That(stream.Length, Is.EqualTo(info.SizeBytes));
    }

    [Test]
    public void A_missing_object_is_a_data_error()
    {
        var store = new SlateSharp.Storage.InMemory.InMemoryObjectStore();
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SstReader.OpenAsync(store, ObjectPath.Parse("compacted/none.sst"), null))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("compacted/none.sst"));
    }

    [Test]
    public async Task A_newer_format_version_is_rejected_naming_both_versions()
    {
        var (bytes, _) = await SstTestHelpers.BuildAsync(TestRows.Sequential(10));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(bytes.Length - 8), 3);
        var store = new SlateSharp.Storage.InMemory.InMemoryObjectStore();
        var path = ObjectPath.Parse("compacted/v3.sst");
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SstReader.OpenAsync(store, path, null))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("unsupported sst format version 3").And.Contain("versions 1 to 1"));
    }

    [Test]
    public async Task A_corrupt_data_block_is_a_data_error_naming_the_object_and_block_offset()
    {
        var rows = TestRows.Sequential(200);
        var (bytes, _) = await SstTestHelpers.BuildAsync(rows, SmallBlocks);
        var store = new SlateSharp.Storage.InMemory.InMemoryObjectStore();
        var path = ObjectPath.Parse("compacted/corrupt.sst");
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var reader = await SstReader.OpenAsync(store, path, null);
        var blockOffset = reader.Index.OffsetOf(2);
        bytes[blockOffset + 5] ^= 0x01;
        await store.PutAsync(path, bytes, PutMode.Overwrite);

        var target = reader.Index.LastKeyOf(2).ToArray();
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await reader.GetAsync(target))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.StartWith("block checksum mismatch").And.EndWith($"(path=compacted/corrupt.sst store={store.Location} offset={blockOffset})"));
        Assert.That(await reader.GetAsync(reader.Index.LastKeyOf(1).ToArray()), Is.Not.Null, "other blocks still read");
    }

    /// <summary>A non-seekable sink, like the pipe into a streaming upload.</summary>
    private sealed class WriteOnlyCountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;
    }
}
