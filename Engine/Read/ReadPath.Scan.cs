using System.Runtime.CompilerServices;
using SlateSharp.Iteration;
using SlateSharp.Manifest;

namespace SlateSharp.Read;

/// <summary>Scans: the merge of every source that may hold a key of the range, at one snapshot, in either direction.</summary>
internal sealed partial class ReadPath
{
    /// <summary>
    /// The visible rows of <paramref name="range"/> as of <paramref name="snapshot"/>, ascending or (with
    /// <see cref="ScanOptions.Reverse"/>) descending, at most <see cref="ScanOptions.Limit"/> of them. The view is taken
    /// (and pinned) when enumeration starts and released when it ends or the enumerator is disposed.
    /// </summary>
    /// <remarks>
    /// Memtables and the L0 SSTs that overlap the range are opened when the scan starts (L0 SSTs overlap each other, so
    /// the merge needs each of them at its first step anyway). A sorted run is one cursor
    /// (<see cref="SortedRunIterator"/>) over just its SSTs that overlap the range, opening each only when the walk
    /// reaches it: a narrow scan of a large run opens one or two SSTs, and one that stops early (a limit, a disposed
    /// enumerator) opens none beyond where it stopped.
    /// </remarks>
    public async IAsyncEnumerable<KeyValue> ScanAsync(
        Func<IReadView> current, KeyRange range, ScanOptions options, ulong snapshot, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (range.IsEmpty)
        {
            yield break;
        }

        var (view, pin) = Pin(current);
        using var entered = new ViewExit(view);
        using (pin)
        {
            // Copied rows: a KeyValue outlives the scan, and a memtable's memory is reused once it is flushed and unread.
            var sources = new List<IRowIterator>();
            for (var i = 0; i < view.MemtableCount; i++)
            {
                sources.Add(view.MemtableAt(i).CreateIterator(copyRows: true));
            }

            foreach (var sst in view.Manifest.L0)
            {
                if (range.Overlaps(sst.FirstKey, sst.LastKey))
                {
                    sources.Add(new SstRowIterator(await readers.GetAsync(sst.Id, cancellationToken).ConfigureAwait(false)));
                }
            }

            foreach (var run in view.Manifest.SortedRuns)
            {
                if (OverlappingSsts(run, range) is { Count: > 0 } ssts)
                {
                    sources.Add(new SortedRunIterator(ssts, readers.GetAsync, readaheadBytes: 0));
                }
            }

            var left = options.Limit ?? int.MaxValue;
            var rangeDeletes = RangeDeletes.Overlapping(view, range.Start.Span, range.End.Span, snapshot);
            var visible = new MergingIterator(_merges, rangeDeletes);
            await foreach (var row in visible.VisibleAsync(sources, range, snapshot, options.Reverse, cancellationToken).ConfigureAwait(false))
            {
                if (row.ExpireAt is not null && !IsLive(row))
                {
                    // The newest visible version has expired: the key is gone, older versions with it.
                    continue;
                }

                if (options.KeysOnly)
                {
                    telemetry.Scanned(0);
                    yield return new KeyValue(row.Key, ReadOnlyMemory<byte>.Empty);
                }
                else
                {
                    telemetry.Scanned(row.Value.Length);
                    yield return new KeyValue(row.Key, row.Value);
                }

                if (--left == 0)
                {
                    yield break;
                }
            }
        }
    }

    /// <summary>The SSTs of <paramref name="run"/> (disjoint, in key order) that overlap <paramref name="range"/>, found by binary search.</summary>
    private static IReadOnlyList<SstHandle> OverlappingSsts(SortedRun run, KeyRange range)
    {
        var ssts = run.Ssts;

        // First: the first SST whose last key is at or after the start. End: the first SST whose first key is at or
        // after the (exclusive) end.
        var first = range.HasStart ? FirstIndex(ssts, s => s.LastKey.AsSpan().SequenceCompareTo(range.Start.Span) >= 0) : 0;
        var end = range.HasEnd ? FirstIndex(ssts, s => s.FirstKey.AsSpan().SequenceCompareTo(range.End.Span) >= 0) : ssts.Count;
        if (first == 0 && end == ssts.Count)
        {
            return ssts;
        }

        var slice = new SstHandle[Math.Max(0, end - first)];
        for (var i = 0; i < slice.Length; i++)
        {
            slice[i] = ssts[first + i];
        }

        return slice;
    }

    /// <summary>The first index whose SST satisfies <paramref name="atOrAfter"/> (a predicate monotone along the run), or the count.</summary>
    private static int FirstIndex(IReadOnlyList<SstHandle> ssts, Func<SstHandle, bool> atOrAfter)
    {
        int low = 0, high = ssts.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (atOrAfter(ssts[middle]))
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }
}
