namespace SlateSharp.Manifest;

/// <summary>
/// A range delete that has left the memtables: every version of every key in [<paramref name="Start"/>,
/// <paramref name="End"/>) with a sequence below <paramref name="Sequence"/> is deleted. The writer adds it to the
/// manifest with the L0 flush of the memtable that held it; the compactor removes it once no stored SST can hold a
/// row it hides (docs/design/range-deletes.md).
/// </summary>
/// <param name="Start">The first key deleted (inclusive), 1 to 65,535 bytes.</param>
/// <param name="End">The key after the range (exclusive); sorts after <paramref name="Start"/>.</param>
/// <param name="Sequence">The sequence number of the range delete.</param>
internal sealed record RangeTombstone(byte[] Start, byte[] End, ulong Sequence)
{
    /// <summary>Whether the range holds <paramref name="key"/>.</summary>
    public bool Covers(ReadOnlySpan<byte> key) => key.SequenceCompareTo(Start) >= 0 && key.SequenceCompareTo(End) < 0;

    /// <summary>
    /// The lowest sequence above <paramref name="sequence"/> of a range delete in <paramref name="tombstones"/> that
    /// covers <paramref name="key"/> — what hides a version of the key written at that sequence from every read point
    /// at or above it; <see cref="ulong.MaxValue"/> when none does.
    /// </summary>
    public static ulong LowestCoveringAbove(IReadOnlyList<RangeTombstone> tombstones, ReadOnlySpan<byte> key, ulong sequence)
    {
        var lowest = ulong.MaxValue;
        for (var i = 0; i < tombstones.Count; i++)
        {
            var tombstone = tombstones[i];
            if (tombstone.Sequence > sequence && tombstone.Sequence < lowest && tombstone.Covers(key))
            {
                lowest = tombstone.Sequence;
            }
        }

        return lowest;
    }

    public bool Equals(RangeTombstone? other) =>
        other is not null && Sequence == other.Sequence && Start.AsSpan().SequenceEqual(other.Start) && End.AsSpan().SequenceEqual(other.End);

    public override int GetHashCode() => HashCode.Combine(Sequence, Start.Length, End.Length);

    public override string ToString() => $"[{Convert.ToHexString(Start)}, {Convert.ToHexString(End)})@{Sequence}";
}
