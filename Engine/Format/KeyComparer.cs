using System.Buffers.Binary;

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

    /// <summary>
    /// The first 8 bytes of a key as a big-endian number, zero-padded: where two keys' prefixes differ they order the
    /// keys as <see cref="CompareKeys"/> does, so a search compares numbers and reads the keys only on a tie.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static ulong PrefixOf(ReadOnlySpan<byte> key) => key.Length >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(key) : PaddedPrefixOf(key);

    private static ulong PaddedPrefixOf(ReadOnlySpan<byte> key)
    {
        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        key.CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    /// <summary>Compares (key, sequence) pairs in internal order.</summary>
    public static int Compare(ReadOnlySpan<byte> keyA, ulong sequenceA, ReadOnlySpan<byte> keyB, ulong sequenceB)
    {
        var byKey = keyA.SequenceCompareTo(keyB);
        return byKey != 0 ? byKey : sequenceB.CompareTo(sequenceA);
    }

    /// <inheritdoc/>
    public int Compare(RowEntry x, RowEntry y) => Compare(x.Key.Span, x.Sequence, y.Key.Span, y.Sequence);
}
