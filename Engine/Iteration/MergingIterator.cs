using System.Runtime.CompilerServices;
using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// What a reader sees of row iterators (newest source first) at one snapshot: for each key in ascending order, the
/// newest row with a sequence at or below the snapshot; tombstones hide the key. Built on the raw
/// <see cref="MergedRowIterator"/>.
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
        var rows = new MergedRowIterator(sources);

        // Rows' keys never change under the merge (memtable arrays are immutable; SST iterators copy), so the last
        // key is kept by reference.
        ReadOnlyMemory<byte>? lastKey = null;
        for (var more = await rows.SeekAsync(startInclusive, cancellationToken).ConfigureAwait(false); more;
             more = await rows.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = rows.Current;
            if (!endExclusive.IsEmpty && row.Key.Span.SequenceCompareTo(endExclusive.Span) >= 0)
            {
                yield break;
            }

            if (row.Sequence <= snapshot && (lastKey is not { } last || !row.Key.Span.SequenceEqual(last.Span)))
            {
                lastKey = row.Key;
                if (row.Kind == RowKind.Put)
                {
                    yield return row;
                }
            }
        }
    }
}
