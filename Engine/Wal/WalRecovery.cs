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
internal sealed record WalFence(ulong Id, IReadOnlySet<ulong> Found, ulong HighestListed);

/// <summary>One WAL object read for replay: decoded, or the Data error that says why it could not be.</summary>
internal sealed record WalReplayItem(ulong Id, ObjectPath Path, long Size, WalObject? Object, SlateSharpException? Corruption);

/// <summary>
/// Writer start-up on the WAL: place a fence at the first free WAL id, so that a previous writer still running finds
/// its next id taken and stops; then read every WAL object between the manifest's <c>replay_after_wal_id</c> and the
/// fence for replay. The WAL is listed once, for both.
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
        var fence = ReadOnlyMemory<byte>.Empty;
        while (true)
        {
            CrashPoints.Reached(CrashPoints.FencePutBefore);
            var result = await SettledCreate.CreateAsync(store, WalPaths.PathOf(candidate), fence, budget, cancellationToken).ConfigureAwait(false);
            CrashPoints.Reached(CrashPoints.FencePutAfter);
            if (result.Created)
            {
                await manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
                return new WalFence(candidate, found, highest);
            }

            // Another writer's object: it belongs to the range this writer replays.
            found.Add(candidate);
            await manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
            candidate++;
        }
    }

    /// <summary>
    /// The WAL objects with ids strictly between <paramref name="after"/> and the fence, in id order: those found at
    /// fencing, plus any that appeared at ids between the listing and the fence (probed with one GET each; normally
    /// there are none). An object that does not decode is yielded with its error rather than thrown, so the caller
    /// decides (fail, or skip a corrupt tail when the user asked for it).
    /// </summary>
    public static async IAsyncEnumerable<WalReplayItem> ReadAsync(
        IObjectStore store, ulong after, WalFence fence, [EnumeratorCancellation] CancellationToken cancellationToken)
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
                decoded = WalObjectCodec.Decode(result.Data, path.Value);
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Data)
            {
                corruption = e;
            }

            yield return new WalReplayItem(id, path, result.Data.Length, decoded, corruption);
        }
    }

    private static SortedSet<ulong> Ids(ulong after, WalFence fence)
    {
        var ids = new SortedSet<ulong>(fence.Found.Where(id => id > after && id < fence.Id));
        for (var id = Math.Max(after, fence.HighestListed) + 1; id < fence.Id; id++)
        {
            ids.Add(id);
        }

        return ids;
    }
}
