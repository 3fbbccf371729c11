namespace SlateSharp.Format;

/// <summary>One write batch as stored in a WAL object: its rows in the order they were written.</summary>
/// <param name="Rows">The rows; keys and values alias the decoded object's bytes.</param>
internal sealed record WalBatch(IReadOnlyList<RowEntry> Rows);

/// <summary>
/// A decoded WAL object: either a fence (the zero-byte object a new writer puts at the next WAL id, see
/// docs/format/wal.md) or the batches it holds, in write order.
/// </summary>
internal sealed class WalObject
{
    private WalObject(bool isFence, IReadOnlyList<WalBatch> batches)
    {
        IsFence = isFence;
        Batches = batches;
    }

    /// <summary>The fence: a WAL id claimed by a newer writer, holding no rows.</summary>
    public static WalObject Fence { get; } = new(true, []);

    /// <summary>True for a zero-byte fence object.</summary>
    public bool IsFence { get; }

    /// <summary>The batches in the order they were appended (empty for a fence).</summary>
    public IReadOnlyList<WalBatch> Batches { get; }

    /// <summary>A data object holding <paramref name="batches"/>.</summary>
    public static WalObject WithBatches(IReadOnlyList<WalBatch> batches) => new(false, batches);
}
