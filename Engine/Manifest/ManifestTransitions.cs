using SlateSharp.Format;

namespace SlateSharp.Manifest;

/// <summary>
/// The rules a manifest update must keep, checked before every compare-and-swap write: the structural invariants
/// of a stored manifest, plus what may change between two versions and who may change it.
/// </summary>
internal static class ManifestTransitions
{
    /// <summary>Describes the first broken rule, or null when <paramref name="next"/> may follow <paramref name="previous"/>.</summary>
    public static string? FindViolation(DbManifest previous, DbManifest next, ManifestRole role, IReadOnlyCollection<SstId> written)
    {
        if (ManifestInvariants.FindViolation(next) is { } structural)
        {
            return structural;
        }

        if (next.WriterEpoch != previous.WriterEpoch || next.CompactorEpoch != previous.CompactorEpoch)
        {
            return $"an update must not change epochs; claims do (writer_epoch={previous.WriterEpoch}->{next.WriterEpoch} compactor_epoch={previous.CompactorEpoch}->{next.CompactorEpoch})";
        }

        if (next.ReplayAfterWalId < previous.ReplayAfterWalId)
        {
            return $"replay_after_wal_id must never decrease ({previous.ReplayAfterWalId}->{next.ReplayAfterWalId})";
        }

        if (next.NextWalId < previous.NextWalId)
        {
            return $"next_wal_id must never decrease ({previous.NextWalId}->{next.NextWalId})";
        }

        if (next.WalV1FencesBelow > previous.WalV1FencesBelow)
        {
            return $"wal_v1_fences_below must never increase ({previous.WalV1FencesBelow}->{next.WalV1FencesBelow})";
        }

        if (next.LastL0Sequence < previous.LastL0Sequence)
        {
            return $"last_l0_sequence must never decrease ({previous.LastL0Sequence}->{next.LastL0Sequence})";
        }

        var before = AllSsts(previous);
        foreach (var id in AllSsts(next))
        {
            if (!before.Contains(id) && !written.Contains(id))
            {
                return $"the update references an sst this {role.ToString().ToLowerInvariant()} has not written (sst={id})";
            }
        }

        if (FindRangeTombstoneViolation(previous, next, role) is { } tombstones)
        {
            return tombstones;
        }

        if (FindUnpublishedOutputViolation(previous, next, role, written) is { } unpublished)
        {
            return unpublished;
        }

        return role switch
        {
            ManifestRole.Writer when !next.SortedRuns.SequenceEqual(previous.SortedRuns) =>
                "only the compactor may change sorted runs",
            ManifestRole.Compactor when next.L0.Any(h => !previous.L0.Contains(h)) =>
                "the compactor may remove l0 ssts but never add them",
            ManifestRole.Compactor when next.ReplayAfterWalId != previous.ReplayAfterWalId || next.NextWalId != previous.NextWalId || next.LastL0Sequence != previous.LastL0Sequence =>
                "only the writer may change the wal position and last_l0_sequence",
            _ => null,
        };
    }

    /// <summary>
    /// The writer only appends range tombstones, with the flush that raises last_l0_sequence past them; the compactor
    /// only removes them, once compacted away. Neither rewrites, reorders or re-adds one: a tombstone that came back
    /// would delete keys written after its removal was decided, one that moved could hide or expose other keys.
    /// </summary>
    private static string? FindRangeTombstoneViolation(DbManifest previous, DbManifest next, ManifestRole role)
    {
        var before = previous.RangeTombstones;
        var after = next.RangeTombstones;
        if (role == ManifestRole.Compactor)
        {
            // A subsequence of the previous list: walk both lists once, matching in order.
            var p = 0;
            foreach (var tombstone in after)
            {
                while (p < before.Count && !before[p].Equals(tombstone))
                {
                    p++;
                }

                if (p == before.Count)
                {
                    return $"the compactor may remove range tombstones but never add or change them (tombstone={tombstone})";
                }

                p++;
            }

            return null;
        }

        if (after.Count < before.Count || !after.Take(before.Count).SequenceEqual(before))
        {
            return $"the writer may append range tombstones but never remove or change them (before={before.Count} after={after.Count})";
        }

        for (var i = before.Count; i < after.Count; i++)
        {
            var added = after[i];
            if (added.Sequence <= previous.LastL0Sequence || added.Sequence > next.LastL0Sequence)
            {
                return $"a range tombstone must arrive with the flush that raises last_l0_sequence past it (tombstone={added} last_l0_sequence={previous.LastL0Sequence}->{next.LastL0Sequence})";
            }
        }

        return null;
    }

    /// <summary>
    /// The list belongs to the compactor: the writer carries it over unchanged; the compactor adds only ids it has
    /// minted (passed as written) and removes any, when it publishes or abandons a job.
    /// </summary>
    private static string? FindUnpublishedOutputViolation(DbManifest previous, DbManifest next, ManifestRole role, IReadOnlyCollection<SstId> written)
    {
        if (role == ManifestRole.Writer)
        {
            return next.UnpublishedCompactionOutputs.SequenceEqual(previous.UnpublishedCompactionOutputs)
                ? null
                : "only the compactor may change the unpublished compaction outputs";
        }

        var before = previous.UnpublishedCompactionOutputs.ToHashSet();
        foreach (var id in next.UnpublishedCompactionOutputs)
        {
            if (!before.Contains(id) && !written.Contains(id))
            {
                return $"the compactor may register only outputs it has minted as unpublished (sst={id})";
            }
        }

        return null;
    }

    private static HashSet<SstId> AllSsts(DbManifest manifest)
    {
        var ids = new HashSet<SstId>(manifest.L0.Select(h => h.Id));
        foreach (var run in manifest.SortedRuns)
        {
            ids.UnionWith(run.Ssts.Select(h => h.Id));
        }

        return ids;
    }
}
