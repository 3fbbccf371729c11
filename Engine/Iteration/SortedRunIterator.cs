using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Sst;

namespace SlateSharp.Iteration;

/// <summary>
/// An <see cref="IRowIterator"/> over a sorted run (SSTs with disjoint key ranges, in key order) that opens each SST
/// only when the cursor reaches it, in either direction, so a scan of a narrow range touches only the SSTs it needs.
/// A scan passes only the SSTs that overlap its range, so the cursor never opens one past the range's end to learn
/// that the range is over.
/// </summary>
internal sealed class SortedRunIterator(IReadOnlyList<SstHandle> ssts, Func<SstId, CancellationToken, ValueTask<SstReader>> open, int readaheadBytes) : IRowIterator
{
    private int _index = -1;
    private bool _started;
    private SstRowIterator? _current;

    public RowEntry Current => _current is { } current ? current.Current : throw Errors.Internal("sorted run iterator is not positioned");

    public async ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        _started = true;

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
            _current = await OpenAsync(_index, cancellationToken).ConfigureAwait(false);
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
        if (!_started)
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
            _current = await OpenAsync(_index, cancellationToken).ConfigureAwait(false);
            if (await _current.MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        _current = null;
        return false;
    }

    public async ValueTask<bool> SeekForPreviousAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        _started = true;

        // The last SST whose first key is at or before the key; every later one lies wholly after it.
        int low = 0, high = ssts.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (key.IsEmpty || ssts[middle].FirstKey.AsSpan().SequenceCompareTo(key.Span) <= 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        var first = low - 1;
        for (_index = first; _index >= 0; _index--)
        {
            _current = await OpenAsync(_index, cancellationToken).ConfigureAwait(false);
            if (await _current.SeekForPreviousAsync(_index == first ? key : ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        _current = null;
        return false;
    }

    public async ValueTask<bool> MovePreviousAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            return await SeekForPreviousAsync(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }

        if (_current is null)
        {
            return false;
        }

        if (await _current.MovePreviousAsync(cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        for (_index--; _index >= 0; _index--)
        {
            _current = await OpenAsync(_index, cancellationToken).ConfigureAwait(false);
            if (await _current.MovePreviousAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        _current = null;
        return false;
    }

    private async ValueTask<SstRowIterator> OpenAsync(int index, CancellationToken cancellationToken) =>
        new(await open(ssts[index].Id, cancellationToken).ConfigureAwait(false), readaheadBytes);
}
