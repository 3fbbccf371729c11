namespace SlateSharp.Format;

/// <summary>
/// The engine's internal row order: key ascending as unsigned bytes, then sequence descending (newest first).
/// Every sorted structure (memtable, SST, merge iterators) uses this order.
/// </summary>
internal sealed class KeyComparer : IComparer<RowEntry>
{
    private KeyComparer()
    {
    }

    /// <summary>The comparer for <see cref="RowEntry"/> values.</summary>
    public static KeyComparer Instance { get; } = new();

    /// <summary>Compares keys as unsigned bytes (a shorter key that is a prefix of a longer one sorts first).</summary>
    public static int CompareKeys(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    /// <summary>Compares (key, sequence) pairs in internal order.</summary>
    public static int Compare(ReadOnlySpan<byte> keyA, ulong sequenceA, ReadOnlySpan<byte> keyB, ulong sequenceB)
    {
        var byKey = keyA.SequenceCompareTo(keyB);
        return byKey != 0 ? byKey : sequenceB.CompareTo(sequenceA);
    }

    /// <inheritdoc/>
    public int Compare(RowEntry x, RowEntry y) => Compare(x.Key.Span, x.Sequence, y.Key.Span, y.Sequence);
}
