using SlateSharp.Common;
using SlateSharp.Format;
using SlateSharp.Storage;

namespace SlateSharp.Manifest;

/// <summary>
/// Reads and writes manifest versions at <c>manifest/{id:D20}.manifest</c>. Ids start at 1 and are contiguous; the
/// highest id is the current state. A version is written only with create-if-absent at the next id, so of two
/// parties writing the same id exactly one wins. Refreshing from a known id probes the following ids with GETs
/// (one GET when nothing changed) and lists only after <see cref="MaxProbes"/> newer versions.
/// </summary>
internal sealed class ManifestStore
{
    public const string Prefix = "manifest/";
    public const int MaxProbes = 4;
    private static readonly NumberedObjectNames Names = new(Prefix, ".manifest");

    private long _conflicts;

    public ManifestStore(IObjectStore store) => Store = store;

    public IObjectStore Store { get; }

    /// <summary>How many create-if-absent writes found their id taken.</summary>
    public long Conflicts => Interlocked.Read(ref _conflicts);

    public static ObjectPath PathOf(ulong id) => Names.PathOf(id);

    /// <summary>Parses the id out of a manifest object's path; false for anything else under the prefix.</summary>
    public static bool TryParseId(ObjectPath path, out ulong id) => Names.TryParseId(path, out id);

    /// <summary>The current manifest (one LIST and one GET), or null when the database has none yet.</summary>
    public async ValueTask<VersionedManifest?> ReadLatestAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var latestId = await LatestIdAsync(cancellationToken).ConfigureAwait(false);
            if (latestId == 0)
            {
                return null;
            }

            // A manifest GC may remove an old version between the LIST and the GET, never the newest; look again.
            if (await ReadAsync(latestId, cancellationToken).ConfigureAwait(false) is { } found)
            {
                return found;
            }
        }
    }

    /// <summary>
    /// The newest manifest at or after <paramref name="known"/>: GETs <c>id+1</c>, <c>id+2</c>… until one is missing,
    /// and falls back to a LIST after <see cref="MaxProbes"/> hits. Returns <paramref name="known"/> itself when
    /// nothing newer exists (the steady state: one GET and one HEAD). When <paramref name="known"/> itself has been
    /// deleted by the garbage collector, lists to find the latest.
    /// </summary>
    public async ValueTask<VersionedManifest> RefreshAsync(VersionedManifest known, CancellationToken cancellationToken)
    {
        var current = known;
        for (var probe = 0; probe < MaxProbes; probe++)
        {
            if (await ReadAsync(current.Id + 1, cancellationToken).ConfigureAwait(false) is not { } next)
            {
                // GC deletes manifests only as a prefix of ids, so id+1 missing while id is still there means id is
                // the latest. If id is gone, GC has passed it (and maybe id+1 too): only a listing finds the latest.
                if (await Store.HeadAsync(PathOf(current.Id), cancellationToken).ConfigureAwait(false) is not null)
                {
                    return current;
                }

                break;
            }

            current = next;
        }

        var latestId = await LatestIdAsync(cancellationToken).ConfigureAwait(false);
        if (latestId <= current.Id)
        {
            return current;
        }

        var latest = await ReadAsync(latestId, cancellationToken).ConfigureAwait(false)
            ?? throw Errors.Internal($"the newest manifest vanished between list and read (path={PathOf(latestId)} store={Store.Location})");
        return await RefreshAsync(latest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The manifest stored at <paramref name="id"/>, or null. A corrupt object is a Data error naming it and the store;
    /// it is never passed over for an older version.
    /// </summary>
    public async ValueTask<VersionedManifest?> ReadAsync(ulong id, CancellationToken cancellationToken)
    {
        var path = PathOf(id);
        var result = await Store.GetAsync(path, ByteRange.All, cancellationToken).ConfigureAwait(false);
        return result is null ? null : new VersionedManifest(id, ManifestCodec.Decode(result.Data.Span, $"{path.Value} store={Store.Location}"));
    }

    /// <summary>
    /// Writes <paramref name="manifest"/> at <paramref name="id"/> if that id is free; false when it is taken.
    /// <paramref name="beforePut"/> runs right before the put is sent and may throw to send nothing.
    /// </summary>
    public async ValueTask<bool> TryWriteAsync(ulong id, DbManifest manifest, CancellationToken cancellationToken, Action? beforePut = null)
    {
        var content = ManifestCodec.Encode(manifest);
        CrashPoints.Reached(CrashPoints.ManifestPutBefore);
        beforePut?.Invoke();
        var result = await Store.PutAsync(PathOf(id), content, PutMode.CreateIfAbsent, cancellationToken).ConfigureAwait(false);
        CrashPoints.Reached(CrashPoints.ManifestPutAfter);
        switch (result.Outcome)
        {
            case PutOutcome.Stored:
                return true;
            case PutOutcome.AlreadyExists:
                Interlocked.Increment(ref _conflicts);
                return false;
            default:
                throw Errors.Internal($"create-if-absent answered {result.Outcome} (path={PathOf(id)} store={Store.Location})");
        }
    }

    private async ValueTask<ulong> LatestIdAsync(CancellationToken cancellationToken)
    {
        ulong latest = 0;
        await foreach (var item in Store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            if (TryParseId(item.Path, out var id) && id > latest)
            {
                latest = id;
            }
        }

        return latest;
    }
}
