using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// A cursor over rows in internal order (key ascending, then sequence descending): a memtable or an SST. It walks
/// forwards (<see cref="SeekAsync"/>, <see cref="MoveNextAsync"/>) or backwards (<see cref="SeekForPreviousAsync"/>,
/// <see cref="MovePreviousAsync"/>); a walk keeps the direction its seek chose, and a merge of cursors may refuse to
/// turn around (<see cref="MergedRowIterator"/>).
/// </summary>
internal interface IRowIterator
{
    /// <summary>The row under the cursor; valid after a move that returned true.</summary>
    RowEntry Current { get; }

    /// <summary>Moves to the first row whose key is at or after <paramref name="key"/> (the first row when empty).</summary>
    ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken);

    /// <summary>Moves to the next row (the first row on a fresh cursor).</summary>
    ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Moves to the last row whose key is at or before <paramref name="key"/> (the last row when empty): in internal
    /// order, the oldest version of the last such key.
    /// </summary>
    ValueTask<bool> SeekForPreviousAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken);

    /// <summary>Moves to the previous row in internal order (the last row on a fresh cursor).</summary>
    ValueTask<bool> MovePreviousAsync(CancellationToken cancellationToken);
}
