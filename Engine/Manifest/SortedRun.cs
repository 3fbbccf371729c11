namespace SlateSharp.Manifest;

/// <summary>A run of SSTs with disjoint key ranges, ordered by key; produced by compaction.</summary>
/// <param name="Id">The run's id; a newer run has a higher id (a new run takes the highest id plus one).</param>
/// <param name="Ssts">The run's SSTs in ascending key order.</param>
internal sealed record SortedRun(uint Id, IReadOnlyList<SstHandle> Ssts)
{
    public bool Equals(SortedRun? other) => other is not null && Id == other.Id && Ssts.SequenceEqual(other.Ssts);

    public override int GetHashCode() => HashCode.Combine(Id, Ssts.Count);
}
