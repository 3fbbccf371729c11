using System.Buffers;
using System.Text;
using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

public sealed class BlockTests
{
    internal static byte[] BuildStored(IReadOnlyList<RowEntry> rows, CompressionCodec codec = CompressionCodec.None, int restartInterval = 4)
    {
        using var builder = new BlockBuilder(restartInterval);
        foreach (var row in rows)
        {
            builder.Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt);
        }

        var output = new ArrayBufferWriter<byte>();
        Block.WriteStored(builder.Finish(), codec, 3, output, out _);
        return output.WrittenSpan.ToArray();
    }

    private static List<RowEntry> Rows() =>
    [
        RowEntry.Put("apple"u8.ToArray(), "1"u8.ToArray(), 9),
        RowEntry.Put("apple"u8.ToArray(), "0"u8.ToArray(), 3),
        RowEntry.Delete("applesauce"u8.ToArray(), 7),
        new RowEntry("banana"u8.ToArray(), "b"u8.ToArray(), 4, RowKind.Merge, 1_700_000_000_000),
        RowEntry.Put("cherry"u8.ToArray(), new byte[300], 5),
        RowEntry.Put("date"u8.ToArray(), "d"u8.ToArray(), 6),
        RowEntry.Put("elderberry"u8.ToArray(), "e"u8.ToArray(), 1),
    ];

    private static string Describe(BlockIterator it) => it.IsValid ? $"{Encoding.ASCII.GetString(it.Key)}@{it.Sequence}" : "none";

    [Test]
    public void Rows_round_trip_forwards_and_backwards()
    {
        var rows = Rows();
        var block = Block.Decode(BuildStored(rows), "compacted/b.sst", 0, 1 << 20);
        var it = new BlockIterator(block);
        var forward = new List<RowEntry>();
        while (it.MoveNext())
        {
            forward.Add(it.Current);
        }

        Assert.That(forward, Is.EqualTo(rows));
        var backward = new List<RowEntry>();
        it.Reset(block);
        while (it.MovePrevious())
        {
            backward.Add(it.Current);
        }

        Assert.That(backward, Is.EqualTo(Enumerable.Reverse(rows)));
    }

    [TestCase("a", ulong.MaxValue, "apple@9")]
    [TestCase("apple", ulong.MaxValue, "apple@9")]
    [TestCase("apple", 5UL, "apple@3")]
    [TestCase("apple", 2UL, "applesauce@7")]
    [TestCase("applf", ulong.MaxValue, "banana@4")]
    [TestCase("cherry", ulong.MaxValue, "cherry@5")]
    [TestCase("elderberry", ulong.MaxValue, "elderberry@1")]
    [TestCase("f", ulong.MaxValue, "none")]
    public void Seek_finds_the_first_row_at_or_after_the_target(string key, ulong sequence, string expected)
    {
        var it = new BlockIterator(Block.Decode(BuildStored(Rows()), "compacted/b.sst", 0, 1 << 20));
        it.Seek(Encoding.ASCII.GetBytes(key), sequence);
        Assert.That(Describe(it), Is.EqualTo(expected));
    }

    [TestCase("a", "none")]
    [TestCase("apple", "apple@3")]
    [TestCase("applea", "apple@3")]
    [TestCase("banana", "banana@4")]
    [TestCase("zzz", "elderberry@1")]
    public void SeekForPrevious_finds_the_last_row_at_or_before_the_key(string key, string expected)
    {
        var it = new BlockIterator(Block.Decode(BuildStored(Rows()), "compacted/b.sst", 0, 1 << 20));
        it.SeekForPrevious(Encoding.ASCII.GetBytes(key));
        Assert.That(Describe(it), Is.EqualTo(expected));
    }

    [Test]
    public void Random_blocks_seek_like_a_sorted_list([Values(1, 3, 16)] int restartInterval)
    {
        var seed = TestSeeds.Get(21 + restartInterval);
        var random = new Random(seed);
        var rows = TestRows.Random(random, 200, 3);
        var block = Block.Decode(BuildStored(rows, restartInterval: restartInterval), "compacted/b.sst", 0, 1 << 20);
        var it = new BlockIterator(block);
        for (var i = 0; i < 300; i++)
        {
            var target = rows[random.Next(rows.Count)];
            var sequence = random.Next(2) == 0 ? ulong.MaxValue : target.Sequence + (ulong)random.Next(-1, 2);
            var expected = rows.FindIndex(r => KeyComparer.Compare(r.Key.Span, r.Sequence, target.Key.Span, sequence) >= 0);
            var found = it.Seek(target.Key.Span, sequence);
            Assert.That(found, Is.EqualTo(expected >= 0), $"seed={seed} i={i}");
            if (found)
            {
                Assert.That(it.Current, Is.EqualTo(rows[expected]), $"seed={seed} i={i}");
                if (expected > 0)
                {
                    Assert.That(it.MovePrevious(), Is.True);
                    Assert.That(it.Current, Is.EqualTo(rows[expected - 1]), $"seed={seed} i={i}");
                }
            }
        }
    }

    [Test]
    public void Compressible_blocks_are_compressed_and_random_ones_are_stored_as_is([Values(CompressionCodec.Lz4, CompressionCodec.Zstd)] CompressionCodec codec)
    {
        var repetitive = TestRows.Sequential(100, valueLength: 64);
        var output = new ArrayBufferWriter<byte>();
        using var builder = new BlockBuilder();
        foreach (var row in repetitive)
        {
            builder.Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt);
        }

        var raw = builder.Finish();
        var stored = Block.WriteStored(raw, codec, 3, output, out var used);
        Assert.That(used, Is.EqualTo(codec));
        Assert.That(stored, Is.LessThan(raw.Length / 2));
        var it = new BlockIterator(Block.Decode(output.WrittenMemory, "compacted/b.sst", 0, 1 << 20));
        var count = 0;
        while (it.MoveNext())
        {
            Assert.That(it.Current, Is.EqualTo(repetitive[count++]));
        }

        Assert.That(count, Is.EqualTo(100));

        var random = new Random(TestSeeds.Get(31));
        var noise = new byte[2000];
        random.NextBytes(noise);
        var noisy = BuildStored([RowEntry.Put("k"u8.ToArray(), noise, 1)], codec);
        Assert.That(noisy[^5], Is.EqualTo((byte)CompressionCodec.None), "random data does not compress, so it is stored raw");
        Assert.That(new BlockIterator(Block.Decode(noisy, "p", 0, 1 << 20)).SeekToFirst(), Is.True);
    }

    [Test]
    public void A_flipped_bit_is_a_checksum_error_naming_the_object_and_offset()
    {
        var stored = BuildStored(Rows());
        stored[10] ^= 0x20;
        var error = Assert.Throws<SlateSharpException>(() => Block.Decode(stored, "compacted/X.sst", 4096, 1 << 20))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.StartWith("block checksum mismatch").And.Contain("path=compacted/X.sst offset=4096"));
    }
}
