using SlateSharp.Format;
using SlateSharp.Iteration;

namespace SlateSharp.Compaction;

/// <summary>The rows a compaction writes for one key range: the raw merge, filtered by the retention policy, up to an end key.</summary>
internal sealed class RetainedRows(IRowIterator merged, RowRetention retention, byte[]? endExclusive)
{
    public RowEntry Current { get; private set; }

    /// <summary>Rows read from the inputs (kept or not).</summary>
    public long RowsRead { get; private set; }

    public async ValueTask<bool> StartAsync(ReadOnlyMemory<byte> startInclusive, CancellationToken cancellationToken) =>
        await merged.SeekAsync(startInclusive, cancellationToken).ConfigureAwait(false) && await SkipDroppedAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken) =>
        await merged.MoveNextAsync(cancellationToken).ConfigureAwait(false) && await SkipDroppedAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>From the merge's current row, moves to the first row kept within the range.</summary>
    private async ValueTask<bool> SkipDroppedAsync(CancellationToken cancellationToken)
    {
        do
        {
            var row = merged.Current;
            if (endExclusive is not null && row.Key.Span.SequenceCompareTo(endExclusive) >= 0)
            {
                return false;
            }

            RowsRead++;
            if (retention.Apply(row) is { } kept)
            {
                Current = kept;
                return true;
            }
        }
        while (await merged.MoveNextAsync(cancellationToken).ConfigureAwait(false));

        return false;
    }
}
