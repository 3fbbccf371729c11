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
    public bool Equals(SstHandle? other) =>
        other is not null && Id == other.Id && Size == other.Size && EntryCount == other.EntryCount &&
        FirstKey.AsSpan().SequenceEqual(other.FirstKey) && LastKey.AsSpan().SequenceEqual(other.LastKey);

    public override int GetHashCode() => HashCode.Combine(Id, Size, EntryCount);
}
