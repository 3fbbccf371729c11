using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// What a reader sees of row iterators (newest source first) at one snapshot, in a key range, ascending or descending:
/// for each key, the row <see cref="VisibleVersion.TryResolve"/> makes of its versions at or below the snapshot (merge
/// operands resolved, versions below a covering range delete hidden). Built on the raw <see cref="MergedRowIterator"/>.
/// Holds the versions of one key at a time, never more.
/// </summary>
internal sealed class MergingIterator(MergeResolver merges, IReadOnlyList<Manifest.RangeTombstone> rangeDeletes)
{
    public IAsyncEnumerable<RowEntry> VisibleAsync(
        IReadOnlyList<IRowIterator> sources, KeyRange range, ulong snapshot, bool reverse, CancellationToken cancellationToken) =>
        reverse ? BackwardAsync(sources, range, snapshot, cancellationToken) : ForwardAsync(sources, range, snapshot, cancellationToken);

    private bool TryResolve(ReadOnlySpan<RowEntry> newestFirst, ulong snapshot, out RowEntry row)
    {
        var floor = rangeDeletes.Count == 0 ? 0 : Read.RangeDeletes.Floor(rangeDeletes, newestFirst[0].Key.Span, snapshot);
        return VisibleVersion.TryResolve(newestFirst, merges, floor, out row);
    }

    private async IAsyncEnumerable<RowEntry> ForwardAsync(
        IReadOnlyList<IRowIterator> sources, KeyRange range, ulong snapshot, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rows = new MergedRowIterator(sources);

        // A key's versions arrive newest first. Rows' keys never change under the merge (memtable arrays are
        // immutable; SST iterators copy), so the key is kept by reference.
        var versions = new List<RowEntry>();
        for (var more = await rows.SeekAsync(range.Start, cancellationToken).ConfigureAwait(false); more;
             more = await rows.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = rows.Current;
            if (range.HasEnd && row.Key.Span.SequenceCompareTo(range.End.Span) >= 0)
            {
                break;
            }

            if (row.Sequence > snapshot)
            {
                continue;
            }

            if (versions.Count > 0 && !row.Key.Span.SequenceEqual(versions[0].Key.Span))
            {
                if (TryResolve(CollectionsMarshal.AsSpan(versions), snapshot, out var visible))
                {
                    yield return visible;
                }

                versions.Clear();
            }

            versions.Add(row);
        }

        if (versions.Count > 0 && TryResolve(CollectionsMarshal.AsSpan(versions), snapshot, out var last))
        {
            yield return last;
        }
    }

    private async IAsyncEnumerable<RowEntry> BackwardAsync(
        IReadOnlyList<IRowIterator> sources, KeyRange range, ulong snapshot, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rows = new MergedRowIterator(sources);

        // A key's versions arrive oldest first: collected, then turned around for the decision.
        var versions = new List<RowEntry>();
        for (var more = await rows.SeekForPreviousAsync(range.End, cancellationToken).ConfigureAwait(false); more;
             more = await rows.MovePreviousAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = rows.Current;
            if (range.HasStart && row.Key.Span.SequenceCompareTo(range.Start.Span) < 0)
            {
                break;
            }

            // The seek lands on the end key itself when a source holds it; the end is exclusive.
            if (row.Sequence > snapshot || (range.HasEnd && row.Key.Span.SequenceCompareTo(range.End.Span) >= 0))
            {
                continue;
            }

            if (versions.Count > 0 && !row.Key.Span.SequenceEqual(versions[0].Key.Span))
            {
                if (Resolve(versions, out var visible))
                {
                    yield return visible;
                }

                versions.Clear();
            }

            versions.Add(row);
        }

        if (versions.Count > 0 && Resolve(versions, out var last))
        {
            yield return last;
        }

        bool Resolve(List<RowEntry> oldestFirst, out RowEntry row)
        {
            var span = CollectionsMarshal.AsSpan(oldestFirst);
            span.Reverse();
            return TryResolve(span, snapshot, out row);
        }
    }
}
