using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// The raw merge of row iterators (newest source first): every row of every source in internal order (key ascending,
/// sequence descending), each (key, sequence) once; or, after <see cref="SeekForPreviousAsync"/>, in exactly the
/// reverse order. What a reader sees and what compaction keeps are decided on top of it (<see cref="MergingIterator"/>,
/// <see cref="RowRetention"/>). A walk keeps the direction of its seek: stepping the other way is an Internal error,
/// since turning every source around is work no caller needs. Not thread-safe.
/// </summary>
internal sealed class MergedRowIterator(IReadOnlyList<IRowIterator> sources) : IRowIterator
{
    // Ties on (key, sequence) can only be the same row seen twice (a memtable and the L0 SST made from it, or an SST
    // and its compacted copy): the source index breaks them, and the later copies are skipped.
    private readonly PriorityQueue<int, (RowEntry Row, int Source)> _queue = new(sources.Count, Order.Forward);
    private PriorityQueue<int, (RowEntry Row, int Source)>? _reverseQueue;
    private RowEntry _current;
    private bool _started;
    private bool _reverse;

    public RowEntry Current => _current;

    public async ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        _reverse = false;
        _started = true;
        _reverseQueue?.Clear();
        _queue.Clear();
        for (var i = 0; i < sources.Count; i++)
        {
            if (await sources[i].SeekAsync(key, cancellationToken).ConfigureAwait(false))
            {
                _queue.Enqueue(i, (sources[i].Current, i));
            }
        }

        return await NextAsync(_queue, null, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            return SeekAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        return _reverse ? throw Errors.Internal("a reverse merge cannot step forwards") : NextAsync(_queue, _current, cancellationToken);
    }

    public async ValueTask<bool> SeekForPreviousAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        _reverse = true;
        _started = true;
        _queue.Clear();
        var queue = _reverseQueue ??= new(sources.Count, Order.Reverse);
        queue.Clear();
        for (var i = 0; i < sources.Count; i++)
        {
            if (await sources[i].SeekForPreviousAsync(key, cancellationToken).ConfigureAwait(false))
            {
                queue.Enqueue(i, (sources[i].Current, i));
            }
        }

        return await NextAsync(queue, null, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<bool> MovePreviousAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            return SeekForPreviousAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        return _reverse ? NextAsync(_reverseQueue!, _current, cancellationToken) : throw Errors.Internal("a forward merge cannot step backwards");
    }

    /// <summary>Takes the next row from <paramref name="queue"/> (forward or reverse), stepping its source the same way.</summary>
    private async ValueTask<bool> NextAsync(PriorityQueue<int, (RowEntry Row, int Source)> queue, RowEntry? previous, CancellationToken cancellationToken)
    {
        while (queue.TryDequeue(out var source, out var entry))
        {
            var moved = _reverse
                ? await sources[source].MovePreviousAsync(cancellationToken).ConfigureAwait(false)
                : await sources[source].MoveNextAsync(cancellationToken).ConfigureAwait(false);
            if (moved)
            {
                queue.Enqueue(source, (sources[source].Current, source));
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

    private sealed class Order(bool reverse) : IComparer<(RowEntry Row, int Source)>
    {
        public static Order Forward { get; } = new(reverse: false);

        public static Order Reverse { get; } = new(reverse: true);

        public int Compare((RowEntry Row, int Source) x, (RowEntry Row, int Source) y)
        {
            var byRow = KeyComparer.Instance.Compare(x.Row, y.Row);
            return byRow != 0 ? (reverse ? -byRow : byRow) : x.Source.CompareTo(y.Source);
        }
    }
}
