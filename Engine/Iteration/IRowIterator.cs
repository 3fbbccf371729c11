using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// A forward cursor over rows in internal order (key ascending, then sequence descending): a memtable or an SST.
/// </summary>
internal interface IRowIterator
{
    /// <summary>The row under the cursor; valid after a move that returned true.</summary>
    RowEntry Current { get; }

    /// <summary>Moves to the first row whose key is at or after <paramref name="key"/> (the first row when empty).</summary>
    ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken);

    /// <summary>Moves to the next row (the first row on a fresh cursor).</summary>
    ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken);
}
