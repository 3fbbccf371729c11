using SlateSharp.Format;
using SlateSharp.Sst;

namespace SlateSharp.Iteration;

/// <summary>An <see cref="IRowIterator"/> over one SST, fetching one block per ranged read through the block cache.</summary>
internal sealed class SstRowIterator(SstReader reader) : IRowIterator
{
    private readonly SstIterator _inner = reader.CreateIterator();

    public RowEntry Current => _inner.Current;

    public ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken) =>
        key.IsEmpty ? _inner.SeekToFirstAsync(cancellationToken) : _inner.SeekAsync(key, ulong.MaxValue, cancellationToken);

    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken) => _inner.MoveNextAsync(cancellationToken);
}
