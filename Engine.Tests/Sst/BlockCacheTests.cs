using SlateSharp.Format;
using SlateSharp.Sst;

namespace SlateSharp.Tests.Sst;

public sealed class BlockCacheTests
{
    private static readonly BlockCache.Source A = BlockCache.SourceOf("a");

    private static Block MakeBlock(int valueLength) =>
        Block.Decode(BlockTests.BuildStored([RowEntry.Put("k"u8.ToArray(), new byte[valueLength], 1)]), "p", 0, 1 << 20);

    [Test]
    public void Stays_within_capacity_and_evicts_the_oldest_block_not_read_since_it_was_passed_over()
    {
        var block = MakeBlock(1000);
        var cache = new BlockCache(capacityBytes: (block.Size + 10) * 3);
        cache.Insert(A, 0, block);
        cache.Insert(A, 1, block);
        cache.Insert(A, 2, block);
        Assert.That(cache.TryGet(A, 0, out _), Is.True, "touch 0 so 1 is the oldest");
        cache.Insert(A, 3, block);
        Assert.That(cache.Size, Is.LessThanOrEqualTo(cache.Capacity));
        Assert.That((cache.Count, cache.Evictions), Is.EqualTo((3, 1L)));
        Assert.That(cache.TryGet(A, 1, out _), Is.False);
        Assert.That(cache.TryGet(A, 0, out var hit), Is.True);
        Assert.That(hit, Is.SameAs(block));
        Assert.That((cache.Hits, cache.Misses), Is.EqualTo((2L, 1L)));
    }

    [Test]
    public void Blocks_larger_than_the_capacity_are_not_cached()
    {
        var cache = new BlockCache(100);
        cache.Insert(A, 0, MakeBlock(1000));
        Assert.That((cache.Count, cache.Size), Is.EqualTo((0, 0L)));
    }

    [Test]
    public void Concurrent_use_keeps_the_bound()
    {
        var block = MakeBlock(100);
        var cache = new BlockCache((block.Size + 1) * 50);
        Parallel.For(0, 8, worker =>
        {
            for (var i = 0; i < 5000; i++)
            {
                var offset = (i * 7 + worker) % 200;
                if (!cache.TryGet(A, offset, out _))
                {
                    cache.Insert(A, offset, block);
                }
            }
        });
        Assert.That(cache.Size, Is.LessThanOrEqualTo(cache.Capacity));
        Assert.That(cache.Count, Is.LessThanOrEqualTo(50));
        Assert.That(cache.Hits + cache.Misses, Is.EqualTo(40_000));
    }

    [Test]
    public void A_hash_shared_by_two_paths_never_returns_the_other_paths_block()
    {
        var block = MakeBlock(10);
        var cache = new BlockCache(1 << 20);
        var a = BlockCache.SourceOf("sst/a.sst");
        var colliding = new BlockCache.Source("sst/b.sst", a.Hash);
        cache.Insert(a, 0, block);
        Assert.That(cache.TryGet(colliding, 0, out _), Is.False);
        Assert.That(cache.TryGet(a, 0, out var hit), Is.True);
        Assert.That(hit, Is.SameAs(block));
    }

    [Test]
    public void A_block_cached_twice_keeps_the_first_and_is_charged_once()
    {
        var first = MakeBlock(100);
        var cache = new BlockCache(1 << 20);
        cache.Insert(A, 0, first);
        cache.Insert(A, 0, MakeBlock(100));
        Assert.That((cache.Count, cache.Size), Is.EqualTo((1, (long)first.Size + 1)));
        Assert.That(cache.TryGet(A, 0, out var hit) && ReferenceEquals(hit, first), Is.True);
    }
}
