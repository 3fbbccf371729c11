namespace SlateSharp.Manifest;

/// <summary>
/// One version of the database state, stored at <c>manifest/{id:D20}.manifest</c>. Immutable: changes build a new
/// instance with <c>with</c>. The encoding lives in <c>Format/ManifestCodec</c> (docs/format/manifest.md).
/// </summary>
/// <param name="WriterEpoch">Epoch of the writer that owns the database; a writer with a lower epoch is fenced.</param>
/// <param name="CompactorEpoch">Epoch of the compactor that owns compaction.</param>
/// <param name="ReplayAfterWalId">WAL objects with ids at or below this are fully in L0 or sorted runs.</param>
/// <param name="NextWalId">The lowest WAL id not known to be used (the next id a new writer tries first).</param>
/// <param name="LastL0Sequence">The highest sequence number flushed into L0.</param>
/// <param name="L0">L0 SSTs, newest first.</param>
/// <param name="SortedRuns">Sorted runs, newest (highest id) first.</param>
/// <param name="Checkpoints">Active checkpoints.</param>
internal sealed record DbManifest(
    ulong WriterEpoch,
    ulong CompactorEpoch,
    ulong ReplayAfterWalId,
    ulong NextWalId,
    ulong LastL0Sequence,
    IReadOnlyList<SstHandle> L0,
    IReadOnlyList<SortedRun> SortedRuns,
    IReadOnlyList<Checkpoint> Checkpoints)
{
    /// <summary>The state of a database that has never been written.</summary>
    public static DbManifest Empty { get; } = new(0, 0, 0, 1, 0, [], [], []);

    /// <summary>Every SST this manifest references: L0, then each sorted run's.</summary>
    public IEnumerable<SstId> SstIds() => L0.Select(h => h.Id).Concat(SortedRuns.SelectMany(r => r.Ssts).Select(h => h.Id));

    /// <summary>The SSTs <paramref name="previous"/> referenced and this manifest no longer does (compacted away).</summary>
    public IEnumerable<SstId> SstIdsDroppedSince(DbManifest previous) => previous.SstIds().Except(SstIds());

    /// <summary>
    /// WAL ids below this may hold a version 1 fence (a zero-byte object); at or above it a zero-byte WAL object is
    /// corrupt. <see cref="ulong.MaxValue"/> when the manifest was decoded from format version 1 (a database written by
    /// v1 writers, where every zero-byte object is a fence); 0 for a database created by a v2 writer.
    /// </summary>
    public ulong WalV1FencesBelow { get; init; }

    /// <summary>
    /// Extensions in tag order that this build read but does not know; the codec writes them back unchanged, so a
    /// decode, change and encode keeps what a newer build stored (docs/format/manifest.md, "Extension area").
    /// </summary>
    public IReadOnlyList<ManifestExtension> UnknownExtensions { get; init; } = [];

    /// <summary>
    /// Range deletes flushed from memtables and not yet known to be compacted away, in ascending sequence order
    /// (extension <c>range_tombstones</c>, docs/format/manifest.md).
    /// </summary>
    public IReadOnlyList<RangeTombstone> RangeTombstones { get; init; } = [];

    /// <summary>
    /// SSTs the compactor's running job has minted and not yet published, in ascending id order (extension
    /// <c>unpublished_compaction_outputs</c>, docs/format/manifest.md). Nothing reads them; the garbage collector keeps
    /// them as if referenced, so a job that runs longer than the publish deadline can still publish what it wrote
    /// (docs/design/compaction.md, "Long jobs"). Only the compactor changes the list; a new compactor epoch clears it.
    /// </summary>
    public IReadOnlyList<SstId> UnpublishedCompactionOutputs { get; init; } = [];

    public bool Equals(DbManifest? other) =>
        other is not null &&
        WriterEpoch == other.WriterEpoch && CompactorEpoch == other.CompactorEpoch &&
        ReplayAfterWalId == other.ReplayAfterWalId && NextWalId == other.NextWalId &&
        LastL0Sequence == other.LastL0Sequence && WalV1FencesBelow == other.WalV1FencesBelow &&
        L0.SequenceEqual(other.L0) && SortedRuns.SequenceEqual(other.SortedRuns) &&
        Checkpoints.SequenceEqual(other.Checkpoints) && UnknownExtensions.SequenceEqual(other.UnknownExtensions) &&
        RangeTombstones.SequenceEqual(other.RangeTombstones) && UnpublishedCompactionOutputs.SequenceEqual(other.UnpublishedCompactionOutputs);

    public override int GetHashCode() => HashCode.Combine(WriterEpoch, CompactorEpoch, ReplayAfterWalId, NextWalId, WalV1FencesBelow, L0.Count);
}
