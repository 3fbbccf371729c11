using SlateSharp.Format;
using SlateSharp.Iteration;

namespace SlateSharp.Compaction;

/// <summary>The rows a compaction writes for one key range: the raw merge, filtered by the retention policy, up to an end key.</summary>
internal sealed class RetainedRows(IRowIterator merged, RowRetention retention, byte[]? endExclusive)
{
    // Whether merged.Current is a row in the range not yet fed to the retention policy; false once the input is done.
    private bool _pending;
    private bool _finished;

    public RowEntry Current { get; private set; }

    /// <summary>Rows read from the inputs (kept or not).</summary>
    public long RowsRead { get; private set; }

    public async ValueTask<bool> StartAsync(ReadOnlyMemory<byte> startInclusive, CancellationToken cancellationToken)
    {
        _pending = await merged.SeekAsync(startInclusive, cancellationToken).ConfigureAwait(false);
        return await MoveNextAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves to the next row kept within the range, feeding the policy input rows until it has one.</summary>
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (retention.TryTake(out var kept))
            {
                Current = kept;
                return true;
            }

            if (_finished)
            {
                return false;
            }

            var row = _pending ? merged.Current : default;
            if (!_pending || (endExclusive is not null && row.Key.Span.SequenceCompareTo(endExclusive) >= 0))
            {
                retention.Finish();
                _finished = true;
                continue;
            }

            RowsRead++;
            retention.Add(row);
            _pending = await merged.MoveNextAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
