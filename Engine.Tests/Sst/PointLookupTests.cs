using System.Buffers;
using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>
/// The allocation-free point lookup (<see cref="BlockSearch"/>, <see cref="SstReader.GetAsync(ReadOnlyMemory{byte}, ulong, ulong, CancellationToken)"/>
/// with one precomputed hash) answers exactly as the iterator seek and per-SST hashing it replaced.
/// </summary>
public sealed class PointLookupTests
{
    /// <summary>Rows of random keys (some up to 2,000 bytes, sharing short prefixes), several versions each, some tombstones.</summary>
    private static List<RowEntry> RandomRows(Random random, int keys, int maxKeyLength)
    {
        var distinct = new SortedSet<byte[]>(Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)));
        while (distinct.Count < keys)
        {
            var key = new byte[random.Next(1, maxKeyLength + 1)];
            random.NextBytes(key.AsSpan(0, Math.Min(3, key.Length))); // short random prefixes: many shared prefixes
            distinct.Add(key);
        }

        var rows = new List<RowEntry>();
        var sequence = 1_000_000UL;
        foreach (var key in distinct)
        {
            var versions = random.Next(1, 4);
            for (var v = 0; v < versions; v++)
            {
                sequence -= (ulong)random.Next(1, 50);
                var value = new byte[random.Next(0, 40)];
                random.NextBytes(value);
                rows.Add(random.Next(5) == 0 ? RowEntry.Delete(key, sequence) : RowEntry.Put(key, value, sequence, random.Next(7) == 0 ? 12345 : null));
            }
        }

        return rows;
    }

    private static byte[] Probe(Random random, List<RowEntry> rows) =>
        random.Next(3) == 0 ? rows[random.Next(rows.Count)].Key.ToArray().Concat(new byte[] { (byte)random.Next(256) }).ToArray() // absent, next to a present key
        : random.Next(4) == 0 ? rows[random.Next(rows.Count)].Key.ToArray() is var present && present.Length > 1 ? present[..random.Next(1, present.Length)] : present // a prefix
        : random.Next(2) == 0 ? [(byte)random.Next(256), (byte)random.Next(256)]
        : rows[random.Next(rows.Count)].Key.ToArray();

    [TestCase(16, 4)]
    [TestCase(300, 16)]
    [TestCase(2000, 2)]
    public void Block_search_finds_what_the_iterator_seek_finds(int maxKeyLength, int restartInterval)
    {
        var seed = TestSeeds.Get(20261201 + maxKeyLength);
        var random = new Random(seed);
        var rows = RandomRows(random, 60, maxKeyLength);
        using var builder = new BlockBuilder(restartInterval);
        foreach (var row in rows)
        {
            builder.Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt);
        }

        var block = Block.Parse(builder.Finish().ToArray(), "test", 0);
        var iterator = new BlockIterator(block);
        for (var i = 0; i < 3000; i++)
        {
            var key = Probe(random, rows);
            var maxSequence = random.Next(4) == 0 ? ulong.MaxValue : rows[random.Next(rows.Count)].Sequence;
            var expected = iterator.Seek(key, maxSequence) && iterator.Key.SequenceEqual(key) ? iterator.Current : (RowEntry?)null;

            var found = BlockSearch.TryFind(block, key, maxSequence, out var row);

            Assert.That(found, Is.EqualTo(expected is not null), $"key={Convert.ToHexString(key)} max={maxSequence} seed={seed}");
            if (expected is { } e)
            {
                Assert.That(new RowEntry(key, block.Data.Slice(row.ValueStart, row.ValueLength), row.Sequence, row.Kind, row.ExpireAt), Is.EqualTo(e));
            }
        }
    }

    [Test]
    public async Task One_hash_probes_every_sst_with_the_answers_of_the_per_sst_path()
    {
        var seed = TestSeeds.Get(77);
        var random = new Random(seed);
        var cache = new BlockCache(8 << 20);
        var readers = new List<SstReader>();
        var all = new List<RowEntry>();
        for (var s = 0; s < 4; s++)
        {
            var rows = RandomRows(random, 400, 24);
            all.AddRange(rows);
            readers.Add((await SstTestHelpers.BuildAndOpenAsync(rows, new SstBuilderOptions { BlockSize = 512 }, cache, $"compacted/{s}.sst")).Reader);
        }

        for (var i = 0; i < 4000; i++)
        {
            var key = Probe(random, all);
            var maxSequence = random.Next(3) == 0 ? ulong.MaxValue : all[random.Next(all.Count)].Sequence;
            var hash = BloomFilter.Hash(key);
            foreach (var reader in readers)
            {
                Assert.That(reader.MayContain(hash), Is.EqualTo(reader.MayContain(key)));
                var viaHash = await reader.GetAsync(key, hash, maxSequence, CancellationToken.None);
                var viaKey = await reader.GetAsync(key, maxSequence);
                var reference = await ReferenceGetAsync(reader, key, maxSequence);
                Assert.That(viaHash, Is.EqualTo(reference), $"key={Convert.ToHexString(key)} max={maxSequence} seed={seed}");
                Assert.That(viaKey, Is.EqualTo(reference));
            }
        }
    }

    [Test]
    public async Task A_cached_get_allocates_nothing()
    {
        var rows = RandomRows(new Random(5), 200, 16);
        var (reader, _, _) = await SstTestHelpers.BuildAndOpenAsync(rows, null, new BlockCache(1 << 20));
        var key = rows[rows.Count / 2].Key;
        var hash = BloomFilter.Hash(key.Span);
        _ = await reader.GetAsync(key, hash, ulong.MaxValue, CancellationToken.None); // loads and caches the block

        // Twice: the first pass may allocate once for the runtime (a method compiled on first call, run alone); the second is the steady state.
        long allocated = 0;
        for (var pass = 0; pass < 2; pass++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                var task = reader.GetAsync(key, hash, ulong.MaxValue, CancellationToken.None);
                if (!task.IsCompletedSuccessfully || task.Result is null)
                {
                    Assert.Fail("a cached block is read synchronously, and the key is there");
                }
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.That(allocated, Is.Zero);
    }

    /// <summary>The lookup as it was: filter by the key's own hash, index, then a fresh iterator's seek.</summary>
    private static async Task<RowEntry?> ReferenceGetAsync(SstReader reader, byte[] key, ulong maxSequence)
    {
        if (key.AsSpan().SequenceCompareTo(reader.Info.FirstKey) < 0 || key.AsSpan().SequenceCompareTo(reader.Info.LastKey) > 0 || !reader.MayContain(key.AsSpan()))
        {
            return null;
        }

        var index = reader.Index.FindBlock(key, maxSequence);
        if (index == reader.Index.Count)
        {
            return null;
        }

        var iterator = new BlockIterator(await reader.ReadBlockAsync(index));
        return iterator.Seek(key, maxSequence) && iterator.Key.SequenceEqual(key) ? iterator.Current : null;
    }
}
