using SlateSharp.Format;
using SlateSharp.Sst;

namespace SlateSharp.Iteration;

/// <summary>
/// An <see cref="IRowIterator"/> over one SST: by default fetching one block per ranged read through the block cache;
/// with <paramref name="readaheadBytes"/> reading that many bytes of blocks at a time around the cache (compaction,
/// forwards only).
/// </summary>
internal sealed class SstRowIterator(SstReader reader, int readaheadBytes = 0) : IRowIterator
{
    private readonly SstIterator _inner = readaheadBytes > 0 ? reader.CreateScanIterator(readaheadBytes) : reader.CreateIterator();

    public RowEntry Current => _inner.Current;

    public ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken) =>
        key.IsEmpty ? _inner.SeekToFirstAsync(cancellationToken) : _inner.SeekAsync(key, ulong.MaxValue, cancellationToken);

    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken) => _inner.MoveNextAsync(cancellationToken);

    public ValueTask<bool> SeekForPreviousAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken) =>
        key.IsEmpty ? _inner.SeekToLastAsync(cancellationToken) : _inner.SeekForPreviousAsync(key, cancellationToken);

    public ValueTask<bool> MovePreviousAsync(CancellationToken cancellationToken) => _inner.MovePreviousAsync(cancellationToken);
}
