using System.Buffers;
using System.Text;
using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>
/// Reusing evicted blocks' arrays (<see cref="BlockRecycler"/>, <see cref="Block.TryReuse"/>): an array goes to a new
/// block only when nothing can still read the old one; a get's lease and a scan's escape keep it, and a reader left
/// holding an evicted block whose array was reused reads the block again instead of another block's bytes.
/// </summary>
public sealed class BlockReuseTests
{
    private static readonly BlockCache.Source A = BlockCache.SourceOf("a");

    /// <summary>A block decoded into a pinned array of the recycler, as <see cref="SstReader"/> reads one.</summary>
    private static (Block Block, byte[] Array) ReusableBlock(BlockRecycler recycler, byte fill)
    {
        var stored = BlockTests.BuildStored([RowEntry.Put("k"u8.ToArray(), Enumerable.Repeat(fill, 1000).ToArray(), 1)]);
        var array = recycler.Rent(stored.Length);
        stored.CopyTo(array, 0);
        var block = Block.Decode(array.AsMemory(0, stored.Length), "p", 0, 1 << 20).InReusableArray(array);
        return (block, array);
    }

    [Test]
    public void An_evicted_block_nothing_reads_gives_its_array_to_the_next_block_and_can_no_longer_be_read()
    {
        var cache = new BlockCache(2000, reuseBuffers: true);
        var recycler = cache.Recycler!;
        var (first, array) = ReusableBlock(recycler, 1);
        cache.Insert(A, 0, first);
        Assert.That(first.TryLease(), Is.True);
        first.Release();

        cache.Insert(A, 1, ReusableBlock(recycler, 2).Block);

        Assert.That(cache.TryGet(A, 0, out _), Is.False, "evicted");
        Assert.That(recycler.IdleCount, Is.EqualTo(1));
        Assert.That(first.TryLease(), Is.False, "a reader still holding it must read the block again");
        Assert.That(first.TryEscape(), Is.False);
        var (next, nextArray) = ReusableBlock(recycler, 3);
        Assert.That(nextArray, Is.SameAs(array));
        Assert.That(recycler.Reused, Is.EqualTo(1L));
        Assert.That(next.TryLease(), Is.True, "the new block over the same array is readable");
    }

    [Test]
    public void A_leased_or_escaped_block_keeps_its_array_when_evicted()
    {
        var cache = new BlockCache(2000, reuseBuffers: true);
        var recycler = cache.Recycler!;
        var (leased, _) = ReusableBlock(recycler, 1);
        cache.Insert(A, 0, leased);
        Assert.That(leased.TryLease(), Is.True);
        var (second, secondArray) = ReusableBlock(recycler, 2);
        cache.Insert(A, 1, second);
        Assert.That(recycler.IdleCount, Is.EqualTo(0), "a get is reading the evicted block 0");
        leased.Release();
        Assert.That(leased.TryLease(), Is.True, "never handed on, so still readable after the lease ended");

        var (escaped, _) = ReusableBlock(recycler, 3);
        Assert.That(escaped.TryEscape(), Is.True);
        cache.Insert(A, 2, escaped);
        Assert.That(recycler.IdleCount, Is.EqualTo(1), "block 1, unread, went back");
        var (fourth, fourthArray) = ReusableBlock(recycler, 4);
        Assert.That(fourthArray, Is.SameAs(secondArray));
        cache.Insert(A, 3, fourth);

        Assert.That(cache.TryGet(A, 2, out _), Is.False, "evicted");
        Assert.That((recycler.IdleCount, escaped.IsEscaped, escaped.TryLease()), Is.EqualTo((0, true, true)),
            "rows of the escaped block may live anywhere: its array is never handed on");
    }

    [Test]
    public async Task A_point_lookup_leases_the_block_of_a_row_it_returns_and_nothing_else()
    {
        var seed = TestSeeds.Get(71);
        var rows = TestRows.Random(new Random(seed), 400, 1);
        var (bytes, _) = await SstTestHelpers.BuildAsync(rows, new SstBuilderOptions { BlockSize = 512 });
        var store = new InMemoryObjectStore();
        var path = ObjectPath.Parse("compacted/lease.sst");
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var reader = await SstReader.OpenAsync(store, path, new BlockCache(1 << 20, reuseBuffers: true));
        var present = rows[rows.Count / 2];

        var found = await reader.GetAsync(present.Key);
        var block = await reader.ReadBlockAsync(reader.Index.FindBlock(present.Key.Span));
        Assert.That(block.IsReusable, Is.True);
        Assert.That(block.Leases, Is.EqualTo(1), $"seed={seed}");
        Assert.That(found!.Value.Value.ToArray(), Is.EqualTo(present.Value.ToArray()));
        BlockLeases.Release(found);
        Assert.That(block.Leases, Is.EqualTo(0));

        // An absent key that falls in the same block: the lookup ends its own lease.
        var absent = present.Key.ToArray().Append((byte)0).ToArray();
        Assert.That(await reader.GetAsync(absent), Is.Null);
        Assert.That(block.Leases, Is.EqualTo(0));
        Assert.That(block.IsEscaped, Is.True, "ReadBlockAsync (iterators, scans) marks what it returns");
    }

    [Test]
    public async Task A_row_a_get_holds_keeps_its_bytes_while_other_gets_evict_its_block_and_reuse_arrays()
    {
        var seed = TestSeeds.Get(73);
        var rows = TestRows.Sequential(400, valueLength: 40);
        var (bytes, _) = await SstTestHelpers.BuildAsync(rows, new SstBuilderOptions { BlockSize = 512 });
        var store = new InMemoryObjectStore();
        var path = ObjectPath.Parse("compacted/held.sst");
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var cache = new BlockCache(2500, reuseBuffers: true);
        var reader = await SstReader.OpenAsync(store, path, cache);
        var random = new Random(seed);

        var held = rows[random.Next(rows.Count)];
        var row = await reader.GetAsync(held.Key);
        for (var i = 0; i < 200; i++)
        {
            var other = await reader.GetAsync(rows[random.Next(rows.Count)].Key);
            BlockLeases.Release(other);
        }

        Assert.That(cache.Recycler!.Reused, Is.GreaterThan(50), $"other gets reused arrays (seed={seed})");
        Assert.That(row!.Value.Value.ToArray(), Is.EqualTo(held.Value.ToArray()), $"the held row's block was not handed on (seed={seed})");
        BlockLeases.Release(row);
    }

    [Test]
    public async Task Concurrent_gets_scans_and_batched_gets_read_the_right_values_while_block_arrays_are_reused()
    {
        var seed = TestSeeds.Get(72);
        const int keys = 6000;
        var store = new InMemoryObjectStore();
        var options = new DbOptions { RandomSeed = seed, BlockSizeBytes = 1024, BlockCacheBytes = 24 << 10 };
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        for (var i = 0; i < keys; i++)
        {
            await db.PutAsync(Key(i), Value(i));
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        var failures = new List<string>();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed * 31 + w);
            var writer = new ArrayBufferWriter<byte>();
            var kept = new List<KeyValue>();
            for (var op = 0; op < 3000; op++)
            {
                var i = random.Next(keys);
                switch (random.Next(10))
                {
                    case 0:
                        await foreach (var row in db.ScanAsync(KeyRange.From(Key(i)), new ScanOptions { Limit = 20 }))
                        {
                            kept.Add(row); // rows alias blocks: they must keep their bytes after the scan and later gets
                        }

                        break;
                    case 1:
                        var batch = Enumerable.Range(0, 8).Select(_ => random.Next(keys)).ToArray();
                        var values = await db.GetManyAsync(batch.Select(k => (ReadOnlyMemory<byte>)Key(k)).ToArray());
                        for (var k = 0; k < batch.Length; k++)
                        {
                            Check(values[k], batch[k]);
                        }

                        break;
                    case 2:
                        writer.ResetWrittenCount();
                        Assert.That(await db.GetAsync(Key(i), writer), Is.True);
                        Check(writer.WrittenSpan.ToArray(), i);
                        break;
                    default:
                        Check(await db.GetAsync(Key(i)), i);
                        break;
                }
            }

            foreach (var row in kept)
            {
                var index = int.Parse(Encoding.ASCII.GetString(row.Key.Span)[4..], System.Globalization.CultureInfo.InvariantCulture);
                Check(row.Value.ToArray(), index);
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.That(failures, Is.Empty, $"seed={seed}");
        Assert.That(db.BlockCache!.Recycler!.Reused, Is.GreaterThan(100), $"the test must make the cache hand arrays on (seed={seed}) misses={db.BlockCache.Misses} evictions={db.BlockCache.Evictions} idle={db.BlockCache.Recycler.IdleCount} count={db.BlockCache.Count} size={db.BlockCache.Size}");

        void Check(byte[]? got, int index)
        {
            if (got is null || !got.AsSpan().SequenceEqual(Value(index)))
            {
                lock (failures)
                {
                    failures.Add($"key {index}: {(got is null ? "null" : Convert.ToHexString(got))}");
                }
            }
        }
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key-{i:D6}");

    private static byte[] Value(int i)
    {
        var value = new byte[100];
        new Random(i).NextBytes(value);
        return value;
    }
}
