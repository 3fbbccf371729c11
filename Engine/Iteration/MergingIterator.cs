using System.Runtime.CompilerServices;
using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// Merges row iterators (newest source first) into the visible key-value pairs of one snapshot: for each key in
/// ascending order, the newest row with a sequence at or below the snapshot; tombstones hide the key.
/// </summary>
internal static class MergingIterator
{
    public static async IAsyncEnumerable<RowEntry> VisibleAsync(
        IReadOnlyList<IRowIterator> sources,
        ReadOnlyMemory<byte> startInclusive,
        ReadOnlyMemory<byte> endExclusive,
        ulong snapshot,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Ties on (key, sequence) can only be the same row seen twice (a memtable and the L0 SST made from it); the
        // source index breaks them so the order is total.
        var queue = new PriorityQueue<int, (RowEntry Row, int Source)>(sources.Count, Order.Instance);
        for (var i = 0; i < sources.Count; i++)
        {
            if (await sources[i].SeekAsync(startInclusive, cancellationToken).ConfigureAwait(false))
            {
                queue.Enqueue(i, (sources[i].Current, i));
            }
        }

        // Rows' keys never change under the merge (memtable arrays are immutable; SST iterators copy), so the last
        // key is kept by reference.
        ReadOnlyMemory<byte>? lastKey = null;
        while (queue.TryDequeue(out var source, out var entry))
        {
            var row = entry.Row;
            if (!endExclusive.IsEmpty && row.Key.Span.SequenceCompareTo(endExclusive.Span) >= 0)
            {
                yield break;
            }

            var visible = row.Sequence <= snapshot && (lastKey is not { } last || !row.Key.Span.SequenceEqual(last.Span));
            if (visible)
            {
                lastKey = row.Key;
                if (row.Kind == RowKind.Put)
                {
                    yield return row;
                }
            }

            if (await sources[source].MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                queue.Enqueue(source, (sources[source].Current, source));
            }
        }
    }

    private sealed class Order : IComparer<(RowEntry Row, int Source)>
    {
        public static Order Instance { get; } = new();

        public int Compare((RowEntry Row, int Source) x, (RowEntry Row, int Source) y)
        {
            var byRow = KeyComparer.Instance.Compare(x.Row, y.Row);
            return byRow != 0 ? byRow : x.Source.CompareTo(y.Source);
        }
    }
}
