using System.Runtime.CompilerServices;
using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Memtable;
using SlateSharp.Sst;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Memtable;

/// <summary>
/// A memtable's arena chunks go back to the pool only once no read view lists it and no read is on one that did, and
/// the pool keeps no more than its limit: the rules that make reusing a flushed memtable's memory safe.
/// </summary>
public sealed class MemtableRecyclingTests
{
    [Test]
    public void The_pool_keeps_full_size_chunks_up_to_its_limit()
    {
        var pool = new MemtableChunkPool(4L * MemtableArena.MaxChunkBytes, 2L * MemtableArena.MaxChunkBytes);
        Assert.That(pool.TryRent(), Is.Null);

        var chunks = new[]
        {
            new MemtableChunk(MemtableArena.MaxChunkBytes), new MemtableChunk(MemtableArena.MaxChunkBytes / 2),
            new MemtableChunk(MemtableArena.MaxChunkBytes), new MemtableChunk(MemtableArena.MaxChunkBytes),
        };
        foreach (var chunk in chunks)
        {
            pool.Return(chunk);
        }

        Assert.That(pool.PooledBytes, Is.EqualTo(2L * MemtableArena.MaxChunkBytes), "a smaller chunk and one beyond the limit are not kept");
        Assert.That(chunks.Select(c => c.IsFreed), Is.EqualTo(new[] { false, true, false, true }), "and are freed at once");
        Assert.That(pool.Dropped, Is.EqualTo(1), "only full-size chunks count as dropped");
        var rented = pool.TryRent();
        Assert.That(rented, Is.SameAs(chunks[2]).And.Property(nameof(MemtableChunk.IsFreed)).False);
        Assert.That(pool.Reused, Is.EqualTo(1));

        pool.Close();
        Assert.That(chunks[0].IsFreed, Is.True, "closing frees what the pool holds");
        pool.Return(rented!);
        Assert.That((rented!.IsFreed, pool.PooledBytes), Is.EqualTo((true, 0L)), "and what comes back after");
    }

    [Test]
    public void Raising_the_limit_keeps_more_chunks_up_to_the_capacity_and_lowering_it_lets_the_excess_go()
    {
        var pool = new MemtableChunkPool(3L * MemtableArena.MaxChunkBytes, MemtableArena.MaxChunkBytes);
        pool.LimitBytes = 10L * MemtableArena.MaxChunkBytes;
        Assert.That(pool.LimitBytes, Is.EqualTo(3L * MemtableArena.MaxChunkBytes), "the limit stops at the capacity");
        for (var i = 0; i < 4; i++)
        {
            pool.Return(new MemtableChunk(MemtableArena.MaxChunkBytes));
        }

        Assert.That((pool.PooledBytes, pool.Dropped), Is.EqualTo((3L * MemtableArena.MaxChunkBytes, 1L)));

        pool.LimitBytes = MemtableArena.MaxChunkBytes + 1;
        Assert.That((pool.PooledBytes, pool.Dropped), Is.EqualTo((1L * MemtableArena.MaxChunkBytes, 3L)), "rounded down to whole chunks");
        pool.LimitBytes = 0;
        Assert.That(pool.LimitBytes, Is.EqualTo(1L * MemtableArena.MaxChunkBytes), "at least one chunk");
        Assert.That(pool.TryRent(), Is.Not.Null);
        Assert.That(pool.TryRent(), Is.Null);
    }

    [Test]
    public void A_memtable_gives_its_chunks_back_at_its_last_hold_and_is_never_held_again()
    {
        var seed = TestSeeds.Get(61);
        var pool = new MemtableChunkPool(64L * MemtableArena.MaxChunkBytes);
        var table = Filled(new MemoryTable((ulong)seed, pool), new Random(seed), 3 * MemtableArena.MaxChunkBytes);
        var reserved = table.ReservedBytes;

        table.AddHold();
        table.AddHold();
        table.ReleaseHold();
        Assert.That((table.IsRecycled, pool.PooledBytes), Is.EqualTo((false, 0L)), "one hold is still kept");

        table.ReleaseHold();
        Assert.That(table.IsRecycled, Is.True);
        Assert.That(pool.PooledBytes, Is.GreaterThan(0).And.LessThanOrEqualTo(reserved), "its full-size chunks went back");
        Assert.Throws<InvalidOperationException>(table.AddHold);

        // The next memtable fills the returned chunks first.
        var next = Filled(new MemoryTable((ulong)seed + 1, pool), new Random(seed + 1), 3 * MemtableArena.MaxChunkBytes);
        Assert.That(pool.Reused, Is.GreaterThan(0), $"seed={seed}");
        Assert.That(next.Count, Is.GreaterThan(0));
    }

    [Test]
    public void A_view_that_was_replaced_lets_its_memtables_and_ssts_go_only_after_its_last_read()
    {
        var seed = TestSeeds.Get(67);
        var random = new Random(seed);
        var pool = new MemtableChunkPool(64L * MemtableArena.MaxChunkBytes);
        var first = Filled(new MemoryTable((ulong)seed, pool), random, 2 * MemtableArena.MaxChunkBytes);
        var second = new MemoryTable((ulong)seed + 1, pool);

        var pins = new SstPins();
        var sst = TestManifests.Handle("a");
        var oldest = new DbView(first, [], DbManifest.Empty with { L0 = [sst] }, 1);
        oldest.Hold(pins);
        var current = oldest;
        Assert.That(oldest.TryEnter(), Is.True, "a read starts on the view listing the first memtable");

        // Frozen, then flushed: two newer views, the last of which no longer lists the first memtable.
        var frozen = current with { Active = second, Immutables = [new ImmutableMemtable(first, null, 0)] };
        Install(ref current, frozen);
        Install(ref current, current with { Immutables = [], Manifest = DbManifest.Empty, ManifestId = 2 });
        Assert.That(first.IsRecycled, Is.False, "the read on the oldest view still holds it");
        Assert.That(pins.Snapshot(), Does.Contain(sst.Id), "the read on the oldest view keeps its manifest's SSTs pinned");
        Assert.That(frozen.TryEnter(), Is.False, "a replaced view whose reads all ended cannot be entered again");

        // The read ends: nothing lists or reads the first memtable any more.
        oldest.Exit();
        Assert.That(first.IsRecycled, Is.True);
        Assert.That(second.IsRecycled, Is.False, "still listed by the current view");
        Assert.That(pins.Snapshot(), Does.Not.Contain(sst.Id), "no view that is current or read lists it");
        Assert.That(pool.PooledBytes, Is.GreaterThan(0), $"seed={seed}");

        void Install(ref DbView current, DbView next)
        {
            next.Hold(pins);
            var previous = current;
            current = next;
            previous.Retire();
        }
    }

    [Test]
    public void A_memtable_that_is_never_recycled_frees_its_chunks_once_unreachable_and_a_row_keeps_them_readable()
    {
        var seed = TestSeeds.Get(89);
        var pool = new MemtableChunkPool(64L * MemtableArena.MaxChunkBytes);

        // Only a row the memtable handed out is kept, as a scan's caller might keep one.
        ReadOneRowAfterItsMemtableIsGone(pool, seed);

        // That row is gone too (its frame returned): nothing reaches the arena.
        CollectFully();
        Assert.That(pool.AllocatedBytes, Is.Zero, $"seed={seed}: the unreachable arena's finalizer freed its chunks");
        Assert.That(pool.PooledBytes, Is.Zero, "freed, not returned to a pool that may be in use");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReadOneRowAfterItsMemtableIsGone(MemtableChunkPool pool, int seed)
    {
        var (row, key, value) = FillAndKeepOneRow(pool, seed);
        var allocated = pool.AllocatedBytes;
        Assert.That(allocated, Is.GreaterThan(4L * MemtableArena.MaxChunkBytes), $"seed={seed}");
        CollectFully();
        Assert.That(pool.AllocatedBytes, Is.EqualTo(allocated), $"seed={seed}: the row's memory keeps its arena, and so every chunk, alive");
        Assert.That((row.Key.ToArray(), row.Value.ToArray()), Is.EqualTo((key, value)), $"seed={seed}");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (RowEntry Row, byte[] Key, byte[] Value) FillAndKeepOneRow(MemtableChunkPool pool, int seed)
    {
        var table = new MemoryTable((ulong)seed, pool);
        byte[] key = [0xff, 1, 2, 3], value = [.. Enumerable.Range(0, 700).Select(i => (byte)(i * 7))];
        table.Insert(key, ulong.MaxValue >> 1, RowKind.Put, value, null);
        Filled(table, new Random(seed), 5 * MemtableArena.MaxChunkBytes);
        return (table.Get(key, ulong.MaxValue)!.Value, key, value);
    }

    private static void CollectFully()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static MemoryTable Filled(MemoryTable table, Random random, long bytes)
    {
        var value = new byte[1000];
        for (ulong sequence = 1; table.SizeBytes < bytes; sequence++)
        {
            var key = new byte[16];
            random.NextBytes(key);
            random.NextBytes(value);
            table.Insert(key, sequence, RowKind.Put, value, null);
        }

        return table;
    }
}
