using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Sst;

namespace SlateSharp.Iteration;

/// <summary>
/// An <see cref="IRowIterator"/> over a sorted run (SSTs with disjoint key ranges, in key order) that opens each SST
/// only when the cursor reaches it, so a scan of a narrow range touches only the SSTs it needs.
/// </summary>
internal sealed class SortedRunIterator(IReadOnlyList<SstHandle> ssts, Func<SstId, CancellationToken, ValueTask<SstReader>> open, int readaheadBytes) : IRowIterator
{
    private int _index = -1;
    private SstRowIterator? _current;

    public RowEntry Current => _current is { } current ? current.Current : throw Errors.Internal("sorted run iterator is not positioned");

    public async ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        // The first SST whose last key is at or after the key; every earlier one lies wholly before it.
        int low = 0, high = ssts.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (!key.IsEmpty && ssts[middle].LastKey.AsSpan().SequenceCompareTo(key.Span) < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        for (_index = low; _index < ssts.Count; _index++)
        {
            _current = new SstRowIterator(await open(ssts[_index].Id, cancellationToken).ConfigureAwait(false), readaheadBytes);
            if (await _current.SeekAsync(_index == low ? key : ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        _current = null;
        return false;
    }

    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        if (_index < 0)
        {
            return await SeekAsync(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }

        if (_current is null)
        {
            return false;
        }

        if (await _current.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        for (_index++; _index < ssts.Count; _index++)
        {
            _current = new SstRowIterator(await open(ssts[_index].Id, cancellationToken).ConfigureAwait(false), readaheadBytes);
            if (await _current.MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        _current = null;
        return false;
    }
}
