using SlateSharp.Format;
using SlateSharp.Sst;

namespace SlateSharp.Tests.Sst;

public sealed class BlockCacheTests
{
    private static Block MakeBlock(int valueLength) =>
        Block.Decode(BlockTests.BuildStored([RowEntry.Put("k"u8.ToArray(), new byte[valueLength], 1)]), "p", 0, 1 << 20);

    [Test]
    public void Stays_within_capacity_and_evicts_the_least_recently_used()
    {
        var block = MakeBlock(1000);
        var cache = new BlockCache(capacityBytes: (block.Size + 10) * 3);
        cache.Insert("a", 0, block);
        cache.Insert("a", 1, block);
        cache.Insert("a", 2, block);
        Assert.That(cache.TryGet("a", 0, out _), Is.True, "touch 0 so 1 is the oldest");
        cache.Insert("a", 3, block);
        Assert.That(cache.Size, Is.LessThanOrEqualTo(cache.Capacity));
        Assert.That((cache.Count, cache.Evictions), Is.EqualTo((3, 1L)));
        Assert.That(cache.TryGet("a", 1, out _), Is.False);
        Assert.That(cache.TryGet("a", 0, out var hit), Is.True);
        Assert.That(hit, Is.SameAs(block));
        Assert.That((cache.Hits, cache.Misses), Is.EqualTo((2L, 1L)));
    }

    [Test]
    public void Blocks_larger_than_the_capacity_are_not_cached()
    {
        var cache = new BlockCache(100);
        cache.Insert("a", 0, MakeBlock(1000));
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
                if (!cache.TryGet("a", offset, out _))
                {
                    cache.Insert("a", offset, block);
                }
            }
        });
        Assert.That(cache.Size, Is.LessThanOrEqualTo(cache.Capacity));
        Assert.That(cache.Count, Is.LessThanOrEqualTo(50));
        Assert.That(cache.Hits + cache.Misses, Is.EqualTo(40_000));
    }
}
