using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// The raw merge of row iterators (newest source first): every row of every source in internal order (key ascending,
/// sequence descending), each (key, sequence) once. What a reader sees and what compaction keeps are decided on top of
/// it (<see cref="MergingIterator"/>, <see cref="RowRetention"/>). Not thread-safe.
/// </summary>
internal sealed class MergedRowIterator(IReadOnlyList<IRowIterator> sources) : IRowIterator
{
    // Ties on (key, sequence) can only be the same row seen twice (a memtable and the L0 SST made from it, or an SST
    // and its compacted copy): the source index breaks them, and the later copies are skipped.
    private readonly PriorityQueue<int, (RowEntry Row, int Source)> _queue = new(sources.Count, Order.Instance);
    private RowEntry _current;
    private bool _started;

    public RowEntry Current => _current;

    public async ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        _queue.Clear();
        _started = true;
        for (var i = 0; i < sources.Count; i++)
        {
            if (await sources[i].SeekAsync(key, cancellationToken).ConfigureAwait(false))
            {
                _queue.Enqueue(i, (sources[i].Current, i));
            }
        }

        return await NextAsync(null, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken) =>
        _started ? NextAsync(_current, cancellationToken) : SeekAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);

    private async ValueTask<bool> NextAsync(RowEntry? previous, CancellationToken cancellationToken)
    {
        while (_queue.TryDequeue(out var source, out var entry))
        {
            if (await sources[source].MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                _queue.Enqueue(source, (sources[source].Current, source));
            }

            var row = entry.Row;
            if (previous is { } last && last.Sequence == row.Sequence && last.Key.Span.SequenceEqual(row.Key.Span))
            {
                continue;
            }

            _current = row;
            return true;
        }

        return false;
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
