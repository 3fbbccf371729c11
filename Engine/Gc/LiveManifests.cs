using SlateSharp.Leases;
using SlateSharp.Manifest;
using SlateSharp.Storage;

namespace SlateSharp.Gc;

/// <summary>
/// The manifest versions whose state someone may still read, each read from the store: the latest; every version an
/// unexpired checkpoint in the latest pins; every version an unexpired reader lease pins; and every version that was
/// the latest within the recent window (its successor was stored less than <see cref="GcOptions.SstMinAge"/> ago),
/// because a process may still be reading through it without a lease (a writer between refreshes, a reader that has
/// not yet stored its lease).
/// </summary>
internal sealed class LiveManifests
{
    private LiveManifests(VersionedManifest latest, IReadOnlyDictionary<ulong, DbManifest> byId)
    {
        Latest = latest;
        ById = byId;
    }

    public VersionedManifest Latest { get; }

    public IReadOnlyDictionary<ulong, DbManifest> ById { get; }

    /// <summary>Every SST any live version references, or registers as an unpublished compaction output.</summary>
    public HashSet<SstId> ReferencedSsts() =>
        ById.Values.SelectMany(m => m.SstIds().Concat(m.UnpublishedCompactionOutputs)).ToHashSet();

    /// <summary>WAL objects at or below this id are in SSTs for every live version (the lowest live replay point).</summary>
    public ulong WalCutoff => ById.Values.Min(m => m.ReplayAfterWalId);

    /// <summary>
    /// Reads the live versions, or returns null when the database has no manifest yet. A pinned version that is
    /// missing is a Data error: what it references is unknown, so nothing may be deleted on a guess.
    /// </summary>
    public static async ValueTask<LiveManifests?> ReadAsync(
        ManifestStore store, IReadOnlyList<ObjectMetadata> listed, IReadOnlyList<ReaderLease> leases, DateTimeOffset now, TimeSpan recentWindow,
        CancellationToken cancellationToken)
    {
        var ids = ListedIds(listed);
        var latest = ids.Count == 0
            ? await store.ReadLatestAsync(cancellationToken).ConfigureAwait(false)
            : await store.ReadAsync(ids[^1].Id, cancellationToken).ConfigureAwait(false)
                ?? throw Errors.Data(ManifestStore.PathOf(ids[^1].Id).Value, $"the newest listed manifest is missing, and the newest is never deleted (store={store.Store.Location})");
        if (latest is null)
        {
            return null;
        }

        latest = await store.RefreshAsync(latest, cancellationToken).ConfigureAwait(false);
        var nowMs = now.ToUnixTimeMilliseconds();
        var pins = new Dictionary<ulong, string>();
        foreach (var checkpoint in latest.Manifest.Checkpoints.Where(c => c.ExpiresAt is null || c.ExpiresAt > nowMs))
        {
            pins.TryAdd(checkpoint.ManifestId, $"checkpoint {checkpoint.Id}");
        }

        foreach (var lease in leases.Where(l => l.ExpiresAt > nowMs))
        {
            pins.TryAdd(lease.ManifestId, $"reader lease {lease.Id}");
        }

        for (var i = 0; i + 1 < ids.Count; i++)
        {
            if (ids[i + 1].LastModified > now - recentWindow)
            {
                pins.TryAdd(ids[i].Id, $"having been the latest until {ids[i + 1].LastModified:O}");
            }
        }

        var byId = new Dictionary<ulong, DbManifest> { [latest.Id] = latest.Manifest };
        foreach (var (id, why) in pins.OrderBy(p => p.Key))
        {
            if (byId.ContainsKey(id))
            {
                continue;
            }

            var pinned = await store.ReadAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw Errors.Data(
                    ManifestStore.PathOf(id).Value,
                    $"manifest {id} is live ({why}) but missing: what it references is unknown, so gc deletes nothing this pass (store={store.Store.Location})");
            byId[id] = pinned.Manifest;
        }

        return new LiveManifests(latest, byId);
    }

    /// <summary>The listed manifest versions in ascending id order (other names under the prefix are left out).</summary>
    public static List<(ulong Id, ObjectMetadata Item)> ListedIdsWithItems(IReadOnlyList<ObjectMetadata> listed)
    {
        var ids = new List<(ulong, ObjectMetadata)>();
        foreach (var item in listed)
        {
            if (ManifestStore.TryParseId(item.Path, out var id))
            {
                ids.Add((id, item));
            }
        }

        ids.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return ids;
    }

    private static List<(ulong Id, DateTimeOffset LastModified)> ListedIds(IReadOnlyList<ObjectMetadata> listed) =>
        ListedIdsWithItems(listed).Select(p => (p.Id, p.Item.LastModified)).ToList();
}
