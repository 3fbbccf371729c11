using System.Runtime.CompilerServices;
using SlateSharp.Common;
using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Storage;

namespace SlateSharp.Wal;

/// <summary>
/// Where a new writer's WAL begins: the id of its fence, and the WAL ids it found above the manifest's
/// <c>replay_after_wal_id</c> on the way (the objects it must replay).
/// </summary>
internal sealed record WalFence(ulong Id, IReadOnlySet<ulong> Found);

/// <summary>One WAL object read for replay: decoded, or the Data error that says why it could not be.</summary>
internal sealed record WalReplayItem(ulong Id, ObjectPath Path, long Size, WalObject? Object, SlateSharpException? Corruption);

/// <summary>
/// Writer start-up on the WAL: place a fence (a record naming this writer's epoch, docs/format/wal.md) at the first
/// free WAL id, so that a previous writer still running finds its next id taken and stops; then read every WAL
/// object between the manifest's <c>replay_after_wal_id</c> and the fence for replay. The WAL is listed once, for both.
/// </summary>
internal static class WalRecovery
{
    /// <summary>
    /// Writes the fence and returns it. The put is settled by reading back, so a false "exists" (S3's 409 under a
    /// racing write) or a lost answer never moves the fence past an id another writer may still fill: the fence
    /// moves on only past an object that is really there, after re-reading the manifest (which throws Fenced if a
    /// newer writer has claimed the database meanwhile). Once placed, the manifest is read once more: a newer writer
    /// that claimed before our fence landed has fenced us, and we must not accept writes.
    /// </summary>
    public static async ValueTask<WalFence> FenceAsync(IObjectStore store, FenceableManifest manifest, SettleBudget budget, CancellationToken cancellationToken)
    {
        var current = manifest.Manifest;
        var found = new SortedSet<ulong>();
        await foreach (var item in store.ListAsync(WalPaths.Prefix, cancellationToken).ConfigureAwait(false))
        {
            if (WalPaths.TryParseId(item.Path, out var id) && id > current.ReplayAfterWalId)
            {
                found.Add(id);
            }
        }

        var highest = found.Count > 0 ? found.Max : current.ReplayAfterWalId;
        var candidate = Math.Max(Math.Max(highest + 1, current.NextWalId), current.ReplayAfterWalId + 1);
        var fence = WalObjectCodec.EncodeFence(manifest.Epoch);
        var started = budget.Time.GetTimestamp();
        while (true)
        {
            if (budget.Time.GetElapsedTime(started) > budget.Timeout)
            {
                throw Errors.Unavailable(
                    $"could not place the wal fence within {budget.Timeout.TotalSeconds:0.#} s: every id up to {candidate - 1} was taken (store={store.Location})");
            }

            var path = WalPaths.PathOf(candidate);
            CrashPoints.Reached(CrashPoints.FencePutBefore);
            var result = await SettledCreate.CreateAsync(store, path, fence, budget, cancellationToken).ConfigureAwait(false);
            CrashPoints.Reached(CrashPoints.FencePutAfter);
            if (result.Created)
            {
                await manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
                return new WalFence(candidate, found);
            }

            // Another writer's object, really there: it belongs to the range this writer replays. One placed by a
            // newer writer means that writer claimed the database after us: the manifest says so.
            found.Add(candidate);
            await manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
            if (EpochOf(result.Existing, path, candidate < current.WalV1FencesBelow) is { } epoch && epoch > manifest.Epoch)
            {
                throw Errors.Fenced(
                    $"fenced: a newer writer's wal object is at the fence id (epoch={manifest.Epoch} object_epoch={epoch} path={path} store={store.Location})");
            }

            candidate++;
        }
    }

    /// <summary>The writer epoch a WAL object records, or null when it records none (v1) or cannot be read.</summary>
    internal static ulong? EpochOf(ReadOnlyMemory<byte> data, ObjectPath path, bool zeroByteIsFence) =>
        TryDecode(data, path, zeroByteIsFence)?.WriterEpoch;

    /// <summary>The decoded WAL object, or null when it cannot be read.</summary>
    internal static WalObject? TryDecode(ReadOnlyMemory<byte> data, ObjectPath path, bool zeroByteIsFence)
    {
        try
        {
            return WalObjectCodec.Decode(data, path.Value, zeroByteIsFence);
        }
        catch (SlateSharpException e) when (e.Kind == ErrorKind.Data)
        {
            return null;
        }
    }

    /// <summary>
    /// The WAL objects with ids strictly between <paramref name="after"/> and the fence, in id order: those found at
    /// fencing, plus any that appeared at ids between the listing and the fence (probed with one GET each; normally
    /// there are none). An object that does not decode is yielded with its error rather than thrown, so the caller
    /// decides (fail, or skip a corrupt tail when the user asked for it).
    /// </summary>
    public static async IAsyncEnumerable<WalReplayItem> ReadAsync(
        IObjectStore store, ulong after, ulong v1FencesBelow, WalFence fence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var id in Ids(after, fence))
        {
            var path = WalPaths.PathOf(id);
            var result = await store.GetAsync(path, ByteRange.All, cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                if (fence.Found.Contains(id))
                {
                    throw Errors.Data(path.Value, $"wal object vanished during replay (store={store.Location})");
                }

                continue;
            }

            WalObject? decoded = null;
            SlateSharpException? corruption = null;
            try
            {
                decoded = WalObjectCodec.Decode(result.Data, path.Value, zeroByteIsFence: id < v1FencesBelow);
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Data)
            {
                corruption = e;
            }

            yield return new WalReplayItem(id, path, result.Data.Length, decoded, corruption);
        }
    }

    /// <summary>
    /// Every id between the replay point and the fence, listed or not. A listing taken while the previous writer still
    /// uploads is not a snapshot: a directory read can return object 13 and miss object 12, created before it
    /// (readdir walks hash order), and 12 may hold acknowledged writes. Every object below the fence was created
    /// before the fence (the previous writer uploads in id order and its next id collides with the fence), so reading
    /// each id directly finds them all; an id that is not there costs one GET that answers "absent".
    /// </summary>
    private static IEnumerable<ulong> Ids(ulong after, WalFence fence)
    {
        for (var id = after + 1; id < fence.Id; id++)
        {
            yield return id;
        }
    }
}
