using SlateSharp.Format;

namespace SlateSharp.Manifest;

/// <summary>
/// A reference from the manifest to one stored SST, with what readers need to skip it without fetching it.
/// </summary>
/// <param name="Id">The SST's id; the object lives at <c>compacted/{Id}.sst</c>.</param>
/// <param name="Size">The object's size in bytes.</param>
/// <param name="FirstKey">The smallest key in the SST.</param>
/// <param name="LastKey">The largest key in the SST.</param>
/// <param name="EntryCount">How many rows it holds.</param>
internal sealed record SstHandle(SstId Id, long Size, byte[] FirstKey, byte[] LastKey, long EntryCount)
{
    /// <summary>The smallest key in the SST.</summary>
    public byte[] FirstKey
    {
        get;
        init
        {
            field = value;
            FirstKeyPrefix = KeyComparer.PrefixOf(value);
        }
    } = FirstKey;

    /// <summary>The largest key in the SST.</summary>
    public byte[] LastKey
    {
        get;
        init
        {
            field = value;
            LastKeyPrefix = KeyComparer.PrefixOf(value);
        }
    } = LastKey;

    // A property initializer sets the backing field without the init accessor, so the constructor's prefixes come
    // from these; a copy made with `with` goes through the accessors above.

    /// <summary><see cref="KeyComparer.PrefixOf"/> of <see cref="FirstKey"/>.</summary>
    public ulong FirstKeyPrefix { get; private init; } = KeyComparer.PrefixOf(FirstKey);

    /// <summary><see cref="KeyComparer.PrefixOf"/> of <see cref="LastKey"/>.</summary>
    public ulong LastKeyPrefix { get; private init; } = KeyComparer.PrefixOf(LastKey);

    /// <summary>
    /// Where <paramref name="key"/> (whose <see cref="KeyComparer.PrefixOf"/> is <paramref name="keyPrefix"/>) lies
    /// against the SST's key range: negative before <see cref="FirstKey"/>, positive after <see cref="LastKey"/>, zero
    /// within. Compares the 8-byte prefixes as numbers first, so most keys outside the range cost no key comparison.
    /// </summary>
    public int Locate(ReadOnlySpan<byte> key, ulong keyPrefix)
    {
        if (keyPrefix < FirstKeyPrefix)
        {
            return -1;
        }

        if (keyPrefix > LastKeyPrefix)
        {
            return 1;
        }

        if (keyPrefix == FirstKeyPrefix && key.SequenceCompareTo(FirstKey) < 0)
        {
            return -1;
        }

        return keyPrefix == LastKeyPrefix && key.SequenceCompareTo(LastKey) > 0 ? 1 : 0;
    }

    public bool Equals(SstHandle? other) =>
        other is not null && Id == other.Id && Size == other.Size && EntryCount == other.EntryCount &&
        FirstKey.AsSpan().SequenceEqual(other.FirstKey) && LastKey.AsSpan().SequenceEqual(other.LastKey);

    public override int GetHashCode() => HashCode.Combine(Id, Size, EntryCount);
}
