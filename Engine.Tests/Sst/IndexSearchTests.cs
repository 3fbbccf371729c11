using System.Buffers;
using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>
/// The index search compares 8-byte key prefixes as numbers before it reads keys (<see cref="KeyComparer.PrefixOf"/>):
/// it must answer as a plain comparison of keys does, for keys shorter than 8 bytes, with zero bytes and with long
/// shared prefixes.
/// </summary>
public sealed class IndexSearchTests
{
    [Test]
    public void Where_two_keys_prefixes_differ_they_order_the_keys()
    {
        var seed = TestSeeds.Get(8801);
        var random = new Random(seed);
        for (var i = 0; i < 20_000; i++)
        {
            var (a, b) = (PrefixTieKeys.Next(random), PrefixTieKeys.Next(random));
            var (pa, pb) = (KeyComparer.PrefixOf(a), KeyComparer.PrefixOf(b));
            if (pa != pb)
            {
                Assert.That(pa.CompareTo(pb), Is.EqualTo(Math.Sign(KeyComparer.CompareKeys(a, b))), $"a={Convert.ToHexString(a)} b={Convert.ToHexString(b)} seed={seed}");
            }
        }
    }

    [Test]
    public void Find_block_answers_as_a_linear_search_of_the_last_rows()
    {
        var seed = TestSeeds.Get(8802);
        var random = new Random(seed);
        var lastRows = new SortedSet<(byte[] Key, ulong Sequence)>(Comparer<(byte[] Key, ulong Sequence)>.Create((x, y) => KeyComparer.Compare(x.Key, x.Sequence, y.Key, y.Sequence)));
        while (lastRows.Count < 300)
        {
            lastRows.Add((PrefixTieKeys.Next(random), (ulong)random.Next(1, 5)));
        }

        var rows = lastRows.ToList();
        const int length = SstFormat.BlockTrailerLength + 10;
        var entries = rows.Select((r, i) => new SstIndex.Entry(i * (long)length, length, r.Sequence, r.Key)).ToList();
        var encoded = new ArrayBufferWriter<byte>();
        SstIndex.Encode(entries, encoded);
        var index = SstIndex.Decode(encoded.WrittenSpan, "test", 0, rows.Count * (long)length, rows.Count);

        for (var i = 0; i < 5_000; i++)
        {
            var key = PrefixTieKeys.Next(random);
            var sequence = random.Next(4) == 0 ? ulong.MaxValue : (ulong)random.Next(0, 6);
            var expected = rows.FindIndex(r => KeyComparer.Compare(r.Key, r.Sequence, key, sequence) >= 0);
            Assert.That(index.FindBlock(key, sequence), Is.EqualTo(expected < 0 ? rows.Count : expected), $"key={Convert.ToHexString(key)} sequence={sequence} seed={seed}");
        }
    }

    /// <summary>
    /// An index of a large SST is decoded into chunks of 2,048 entries and 64 KiB of keys (off the large object
    /// heap): every block's entry and every search answer the same across chunk boundaries, including keys that
    /// do not fit the rest of a key chunk.
    /// </summary>
    [Test]
    public void An_index_larger_than_one_chunk_reads_back_every_entry_and_finds_every_block()
    {
        var seed = TestSeeds.Get(8803);
        var random = new Random(seed);
        var lastRows = new SortedSet<(byte[] Key, ulong Sequence)>(Comparer<(byte[] Key, ulong Sequence)>.Create((x, y) => KeyComparer.Compare(x.Key, x.Sequence, y.Key, y.Sequence)));
        while (lastRows.Count < 9_000)
        {
            // 8 to 2,000 bytes: ~9 MB of keys over ~140 key chunks, many keys cut off by a chunk's end.
            var key = new byte[random.Next(4) == 0 ? random.Next(500, 2_000) : random.Next(8, 40)];
            random.NextBytes(key);
            lastRows.Add((key, (ulong)random.Next(1, 5)));
        }

        var rows = lastRows.ToList();
        var lengths = rows.Select(_ => SstFormat.BlockTrailerLength + random.Next(0, 5_000)).ToArray();
        var offsets = new long[rows.Count + 1];
        for (var i = 0; i < rows.Count; i++)
        {
            offsets[i + 1] = offsets[i] + lengths[i];
        }

        var entries = rows.Select((r, i) => new SstIndex.Entry(offsets[i], lengths[i], r.Sequence, r.Key)).ToList();
        var encoded = new ArrayBufferWriter<byte>();
        SstIndex.Encode(entries, encoded);
        var index = SstIndex.Decode(encoded.WrittenSpan, "test", 0, offsets[^1], rows.Count);

        Assert.That(index.Count, Is.EqualTo(rows.Count));
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.That(index.OffsetOf(i), Is.EqualTo(offsets[i]), $"block {i} seed={seed}");
            Assert.That(index.LengthOf(i), Is.EqualTo(lengths[i]), $"block {i} seed={seed}");
            Assert.That(index.LastSequenceOf(i), Is.EqualTo(rows[i].Sequence), $"block {i} seed={seed}");
            Assert.That(index.LastKeyOf(i).SequenceEqual(rows[i].Key), $"block {i} seed={seed}");
            Assert.That(index.FindBlock(rows[i].Key, rows[i].Sequence), Is.EqualTo(i), $"block {i} seed={seed}");
        }

        for (var i = 0; i < 5_000; i++)
        {
            var key = new byte[random.Next(1, 40)];
            random.NextBytes(key);
            var sequence = (ulong)random.Next(0, 6);
            var expected = rows.FindIndex(r => KeyComparer.Compare(r.Key, r.Sequence, key, sequence) >= 0);
            Assert.That(index.FindBlock(key, sequence), Is.EqualTo(expected < 0 ? rows.Count : expected), $"key={Convert.ToHexString(key)} sequence={sequence} seed={seed}");
        }

        Assert.That(index.Size, Is.GreaterThanOrEqualTo(rows.Sum(r => (long)r.Key.Length)));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.OffsetOf(rows.Count));
    }
}
