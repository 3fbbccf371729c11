using SlateSharp.Format;
using SlateSharp.Iteration;
using SlateSharp.Manifest;
using SlateSharp.Memtable;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Iteration;

/// <summary>
/// Every row cursor walks backwards exactly as its forward walk reversed, and seeks for the previous key like a sorted
/// list: the memtable's skip list, one SST (small blocks, so walks cross block boundaries), a sorted run of several
/// SSTs, and the raw merge of all of them (whose reverse must also drop the duplicate copies of a row).
/// </summary>
public sealed class ReverseIterationTests
{
    private static readonly SstBuilderOptions SmallBlocks = new() { BlockSize = 256 };

    [Test]
    public async Task Memtable_iterator_walks_and_seeks_backwards()
    {
        var seed = TestSeeds.Get(301);
        var random = new Random(seed);
        var rows = TestRows.Random(random, 400, 3);
        var table = Memtable(rows, (ulong)seed);
        await CheckAsync(() => table.CreateIterator(), rows, random, seed);
    }

    [Test]
    public async Task Sst_iterator_walks_and_seeks_backwards_across_blocks()
    {
        var seed = TestSeeds.Get(302);
        var random = new Random(seed);
        var rows = TestRows.Random(random, 400, 3);
        var (reader, _, info) = await SstTestHelpers.BuildAndOpenAsync(rows, SmallBlocks);
        Assert.That(info.BlockCount, Is.GreaterThan(10));
        await CheckAsync(() => new SstRowIterator(reader), rows, random, seed);
    }

    [Test]
    public async Task Sorted_run_iterator_walks_and_seeks_backwards_across_ssts()
    {
        var seed = TestSeeds.Get(303);
        var random = new Random(seed);
        var rows = TestRows.Random(random, 600, 3);
        var (open, handles) = await RunAsync(rows, ssts: 5);
        await CheckAsync(() => new SortedRunIterator(handles, open, readaheadBytes: 0), rows, random, seed);
    }

    [Test]
    public async Task The_merge_walks_backwards_and_skips_duplicate_copies()
    {
        var seed = TestSeeds.Get(304);
        var random = new Random(seed);
        var all = TestRows.Random(random, 600, 4);

        // Rows dealt to a memtable, an SST and a run; a third of the run's rows also in the memtable (a flushed copy).
        var memtableRows = new List<RowEntry>();
        var sstRows = new List<RowEntry>();
        var runRows = new List<RowEntry>();
        foreach (var row in all)
        {
            var pick = random.Next(3);
            (pick == 0 ? memtableRows : pick == 1 ? sstRows : runRows).Add(row);
            if (pick == 2 && random.Next(3) == 0)
            {
                memtableRows.Add(row);
            }
        }

        memtableRows.Sort(KeyComparer.Instance);
        var table = Memtable(memtableRows, (ulong)seed);
        var (reader, _, _) = await SstTestHelpers.BuildAndOpenAsync(sstRows, SmallBlocks);
        var (open, handles) = await RunAsync(runRows, ssts: 3);
        await CheckAsync(
            () => new MergedRowIterator([table.CreateIterator(), new SstRowIterator(reader), new SortedRunIterator(handles, open, 0)]),
            all, random, seed, turnsAround: false);
    }

    /// <summary>Compares reverse walks and previous-seeks of fresh cursors with <paramref name="rows"/> (internal order).</summary>
    private static async Task CheckAsync(Func<IRowIterator> create, List<RowEntry> rows, Random random, int seed, bool turnsAround = true)
    {
        var backwards = new List<RowEntry>();
        var it = create();
        while (await it.MovePreviousAsync(CancellationToken.None))
        {
            backwards.Add(it.Current);
        }

        backwards.Reverse();
        Assert.That(backwards, Is.EqualTo(rows), $"seed={seed}: a full reverse walk is the forward order reversed");

        for (var i = 0; i < 200; i++)
        {
            // Probes: existing keys, keys just around them, random bytes, and (once) the unbounded seek.
            byte[] probe = random.Next(3) switch
            {
                0 => rows[random.Next(rows.Count)].Key.ToArray(),
                1 => [.. rows[random.Next(rows.Count)].Key.Span, (byte)random.Next(256)],
                _ => RandomKey(random),
            };
            if (i == 0)
            {
                probe = [];
            }

            var expected = probe.Length == 0 ? rows.Count - 1 : rows.FindLastIndex(r => r.Key.Span.SequenceCompareTo(probe) <= 0);
            it = create();
            var found = await it.SeekForPreviousAsync(probe, CancellationToken.None);
            var what = $"seed={seed} probe={Convert.ToHexString(probe)}";
            Assert.That(found, Is.EqualTo(expected >= 0), what);
            for (var step = 0; found && step < 6; step++)
            {
                Assert.That(it.Current, Is.EqualTo(rows[expected - step]), $"{what} step={step}");
                found = await it.MovePreviousAsync(CancellationToken.None);
                Assert.That(found, Is.EqualTo(expected - step - 1 >= 0), $"{what} step={step}");
            }
        }

        if (!turnsAround)
        {
            var merged = create();
            await merged.SeekForPreviousAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
            var error = Assert.ThrowsAsync<SlateSharpException>(async () => await merged.MoveNextAsync(CancellationToken.None));
            Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Internal), "a reverse merge refuses to turn around");
        }
    }

    private static byte[] RandomKey(Random random)
    {
        var key = new byte[random.Next(1, 6)];
        random.NextBytes(key);
        return key;
    }

    private static MemoryTable Memtable(List<RowEntry> rows, ulong seed)
    {
        var table = new MemoryTable(seed);
        foreach (var row in rows)
        {
            table.Insert(row.Key.ToArray(), row.Sequence, row.Kind, row.Value.ToArray(), row.ExpireAt);
        }

        return table;
    }

    /// <summary>Splits <paramref name="rows"/> into <paramref name="ssts"/> SSTs at key boundaries: a sorted run.</summary>
    private static async Task<(Func<SstId, CancellationToken, ValueTask<SstReader>> Open, List<SstHandle> Handles)> RunAsync(List<RowEntry> rows, int ssts)
    {
        var store = new InMemoryObjectStore();
        var handles = new List<SstHandle>();
        var start = 0;
        for (var n = 0; n < ssts && start < rows.Count; n++)
        {
            var end = n == ssts - 1 ? rows.Count : Math.Min(rows.Count, start + (rows.Count / ssts));
            while (end < rows.Count && end > start && rows[end].Key.Span.SequenceEqual(rows[end - 1].Key.Span))
            {
                end++;
            }

            var part = rows.GetRange(start, end - start);
            var (bytes, info) = await SstTestHelpers.BuildAsync(part, SmallBlocks);
            var id = new SstId((UInt128)(n + 1));
            await store.PutAsync(SstPaths.PathOf(id), bytes, PutMode.Overwrite);
            handles.Add(new SstHandle(id, bytes.Length, info.FirstKey, info.LastKey, info.EntryCount));
            start = end;
        }

        return ((id, ct) => SstReader.OpenAsync(store, SstPaths.PathOf(id), null, ct), handles);
    }
}
