using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// What a reader sees of row iterators (newest source first) at one snapshot: for each key in ascending order, the
/// newest row with a sequence at or below the snapshot; tombstones hide the key. When that row is a merge operand,
/// the key's older visible versions are gathered and the <see cref="MergeResolver"/> resolves them into one put (or none).
/// A version below a covering range delete counts as a tombstone at the range delete's sequence. Built on the raw
/// <see cref="MergedRowIterator"/>.
/// </summary>
internal static class MergingIterator
{
    public static async IAsyncEnumerable<RowEntry> VisibleAsync(
        IReadOnlyList<IRowIterator> sources,
        ReadOnlyMemory<byte> startInclusive,
        ReadOnlyMemory<byte> endExclusive,
        ulong snapshot,
        MergeResolver merges,
        IReadOnlyList<Manifest.RangeTombstone> rangeDeletes,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rows = new MergedRowIterator(sources);

        // Rows' keys never change under the merge (memtable arrays are immutable; SST iterators copy), so the last
        // key is kept by reference.
        ReadOnlyMemory<byte>? lastKey = null;

        // The visible versions of the current key, newest first, while its newest is a merge operand.
        List<RowEntry>? versions = null;
        ulong floor = 0;
        for (var more = await rows.SeekAsync(startInclusive, cancellationToken).ConfigureAwait(false); more;
             more = await rows.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = rows.Current;
            if (!endExclusive.IsEmpty && row.Key.Span.SequenceCompareTo(endExclusive.Span) >= 0)
            {
                break;
            }

            if (row.Sequence > snapshot)
            {
                continue;
            }

            if (rangeDeletes.Count > 0)
            {
                // A version below the newest covering range delete (at or below the snapshot) is hidden: read as a
                // tombstone there, it hides the key or is the base of the operands above it.
                var sameKey = lastKey is { } previous && row.Key.Span.SequenceEqual(previous.Span);
                floor = sameKey ? floor : Read.RangeDeletes.Floor(rangeDeletes, row.Key.Span, snapshot);
                if (row.Sequence < floor)
                {
                    row = RowEntry.Delete(row.Key, floor);
                }
            }

            if (lastKey is { } last && row.Key.Span.SequenceEqual(last.Span))
            {
                if (versions is not null)
                {
                    versions.Add(row);
                    if (row.Kind != RowKind.Merge && Resolve(merges, versions) is { } merged)
                    {
                        yield return merged;
                    }

                    versions = row.Kind == RowKind.Merge ? versions : null;
                }

                continue;
            }

            if (versions is not null && Resolve(merges, versions) is { } pending)
            {
                yield return pending;
            }

            versions = null;
            lastKey = row.Key;
            if (row.Kind == RowKind.Put)
            {
                yield return row;
            }
            else if (row.Kind == RowKind.Merge)
            {
                versions = [row];
            }
        }

        if (versions is not null && Resolve(merges, versions) is { } final)
        {
            yield return final;
        }
    }

    private static RowEntry? Resolve(MergeResolver merges, List<RowEntry> versions) =>
        merges.Resolve(CollectionsMarshal.AsSpan(versions)) is { } value ? RowEntry.Put(versions[0].Key, value, versions[0].Sequence) : null;
}
