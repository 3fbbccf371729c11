using System.Text;
using SlateSharp.Manifest;

namespace SlateSharp.Format;

/// <summary>
/// The structural rules every stored manifest obeys (docs/format/manifest.md, "Invariants"). Checked by
/// <see cref="ManifestCodec"/> on encode and decode; callers may check a manifest before a compare-and-swap too.
/// </summary>
internal static class ManifestInvariants
{
    /// <summary>Describes the first broken rule, or returns null when the manifest is valid.</summary>
    public static string? FindViolation(DbManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.WriterEpoch > long.MaxValue || manifest.CompactorEpoch > long.MaxValue)
        {
            return $"epoch out of range (writer_epoch={manifest.WriterEpoch} compactor_epoch={manifest.CompactorEpoch})";
        }

        if (manifest.NextWalId <= manifest.ReplayAfterWalId)
        {
            return $"next wal id must be above replay_after_wal_id (next_wal_id={manifest.NextWalId} replay_after_wal_id={manifest.ReplayAfterWalId})";
        }

        var ids = new HashSet<SstId>();
        foreach (var handle in manifest.L0)
        {
            if (CheckHandle(handle, ids) is { } problem)
            {
                return $"l0: {problem}";
            }
        }

        uint? previousRun = null;
        foreach (var run in manifest.SortedRuns)
        {
            if (previousRun is { } previous && run.Id >= previous)
            {
                return $"sorted run ids must descend, newest (highest) first (id={run.Id} previous={previous})";
            }

            previousRun = run.Id;
            if (run.Ssts.Count == 0)
            {
                return $"sorted run {run.Id} has no ssts";
            }

            for (var i = 0; i < run.Ssts.Count; i++)
            {
                if (CheckHandle(run.Ssts[i], ids) is { } problem)
                {
                    return $"sorted run {run.Id}: {problem}";
                }

                if (i > 0 && run.Ssts[i - 1].LastKey.AsSpan().SequenceCompareTo(run.Ssts[i].FirstKey) >= 0)
                {
                    return $"sorted run {run.Id}: ssts overlap or are out of key order (sst={run.Ssts[i].Id})";
                }
            }
        }

        var checkpointIds = new HashSet<Guid>();
        foreach (var checkpoint in manifest.Checkpoints)
        {
            if (!checkpointIds.Add(checkpoint.Id))
            {
                return $"duplicate checkpoint id (id={checkpoint.Id})";
            }

            if (checkpoint.Name is { } name && Encoding.UTF8.GetByteCount(name) > ushort.MaxValue)
            {
                return $"checkpoint name too long (id={checkpoint.Id})";
            }
        }

        return CheckRangeTombstones(manifest) ?? CheckUnpublishedCompactionOutputs(manifest, ids) ?? CheckExtensions(manifest.UnknownExtensions);
    }

    /// <summary>
    /// Unpublished compaction outputs are one sorted set, and an SST is either published (in L0 or a run) or not: the
    /// job that publishes its outputs removes them from the list in the same update.
    /// </summary>
    private static string? CheckUnpublishedCompactionOutputs(DbManifest manifest, HashSet<SstId> referenced)
    {
        var outputs = manifest.UnpublishedCompactionOutputs;
        for (var i = 0; i < outputs.Count; i++)
        {
            if (i > 0 && outputs[i].CompareTo(outputs[i - 1]) <= 0)
            {
                return $"unpublished compaction outputs must strictly ascend (sst={outputs[i]} previous={outputs[i - 1]})";
            }

            if (referenced.Contains(outputs[i]))
            {
                return $"an unpublished compaction output is also referenced by l0 or a sorted run (sst={outputs[i]})";
            }
        }

        return null;
    }

    /// <summary>
    /// Range tombstones come from flushed memtables, so each is at or below last_l0_sequence; one per write, so their
    /// sequences are distinct, and the list is kept in ascending sequence order.
    /// </summary>
    private static string? CheckRangeTombstones(DbManifest manifest)
    {
        ulong? previous = null;
        foreach (var tombstone in manifest.RangeTombstones)
        {
            if (previous is { } p && tombstone.Sequence <= p)
            {
                return $"range tombstone sequences must strictly ascend (sequence={tombstone.Sequence} previous={p})";
            }

            previous = tombstone.Sequence;
            if (tombstone.Sequence > manifest.LastL0Sequence)
            {
                return $"range tombstone above last_l0_sequence: only flushed range deletes are in the manifest (tombstone={tombstone} last_l0_sequence={manifest.LastL0Sequence})";
            }

            if (tombstone.Start.Length is 0 or > ushort.MaxValue || tombstone.End.Length is 0 or > ushort.MaxValue)
            {
                return $"range tombstone has a key of bad length (sequence={tombstone.Sequence} start_length={tombstone.Start.Length} end_length={tombstone.End.Length})";
            }

            if (tombstone.Start.AsSpan().SequenceCompareTo(tombstone.End) >= 0)
            {
                return $"range tombstone start must sort before its end (tombstone={tombstone})";
            }
        }

        return null;
    }

    private static string? CheckExtensions(IReadOnlyList<ManifestExtension> extensions)
    {
        var previous = -1;
        foreach (var extension in extensions)
        {
            var tag = extension.Tag;
            if ((tag & ~ManifestCodec.CriticalTagBit) == 0 || tag <= previous)
            {
                return $"unknown extension tags must be non-zero, ascending and unique (tag=0x{tag:x4} previous=0x{previous:x4})";
            }

            if ((tag & ManifestCodec.CriticalTagBit) != 0 || ManifestCodec.IsKnownTag(tag))
            {
                return $"an unknown extension must be a non-critical tag this build does not know (tag=0x{tag:x4})";
            }

            previous = tag;
        }

        return null;
    }

    private static string? CheckHandle(SstHandle handle, HashSet<SstId> ids)
    {
        if (!ids.Add(handle.Id))
        {
            return $"duplicate sst id (sst={handle.Id})";
        }

        if (handle.Size <= 0 || handle.EntryCount <= 0)
        {
            return $"sst size and entry count must be positive (sst={handle.Id} size={handle.Size} entries={handle.EntryCount})";
        }

        if (handle.FirstKey.Length is 0 or > ushort.MaxValue || handle.LastKey.Length is 0 or > ushort.MaxValue)
        {
            return $"sst key range has a key of bad length (sst={handle.Id})";
        }

        return handle.FirstKey.AsSpan().SequenceCompareTo(handle.LastKey) > 0
            ? $"sst first key sorts after its last key (sst={handle.Id})"
            : null;
    }
}
