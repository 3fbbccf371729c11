using System.Runtime.CompilerServices;
using SlateSharp.Common;
using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Storage;

namespace SlateSharp.Wal;

/// <summary>
/// Writer start-up on the WAL: place a fence (a zero-byte object) at the first free WAL id, so that a previous writer
/// still running finds its next id taken and stops; then read every WAL object between the manifest's
/// <c>replay_after_wal_id</c> and the fence for replay.
/// </summary>
internal static class WalRecovery
{
    /// <summary>
    /// Writes the fence and returns its id. When the id is taken by another writer's WAL object, re-reads the manifest
    /// (which throws Fenced if a newer writer has claimed the database meanwhile) and tries the next id.
    /// </summary>
    public static async ValueTask<ulong> FenceAsync(IObjectStore store, FenceableManifest manifest, CancellationToken cancellationToken)
    {
        ulong highest = 0;
        await foreach (var item in store.ListAsync(WalPaths.Prefix, cancellationToken).ConfigureAwait(false))
        {
            if (WalPaths.TryParseId(item.Path, out var id) && id > highest)
            {
                highest = id;
            }
        }

        var current = manifest.Manifest;
        var candidate = Math.Max(Math.Max(highest + 1, current.NextWalId), current.ReplayAfterWalId + 1);
        while (true)
        {
            CrashPoints.Reached(CrashPoints.FencePutBefore);
            var result = await store.PutAsync(WalPaths.PathOf(candidate), ReadOnlyMemory<byte>.Empty, PutMode.CreateIfAbsent, cancellationToken)
                .ConfigureAwait(false);
            CrashPoints.Reached(CrashPoints.FencePutAfter);
            if (result.Stored)
            {
                return candidate;
            }

            await manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
            candidate++;
        }
    }

    /// <summary>The WAL objects with ids strictly between <paramref name="after"/> and <paramref name="before"/>, in id order.</summary>
    public static async IAsyncEnumerable<(ulong Id, WalObject Object)> ReadAsync(
        IObjectStore store, ulong after, ulong before, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ids = new List<ulong>();
        await foreach (var item in store.ListAsync(WalPaths.Prefix, cancellationToken).ConfigureAwait(false))
        {
            if (WalPaths.TryParseId(item.Path, out var id) && id > after && id < before)
            {
                ids.Add(id);
            }
        }

        ids.Sort();
        foreach (var id in ids)
        {
            var path = WalPaths.PathOf(id);
            var result = await store.GetAsync(path, ByteRange.All, cancellationToken).ConfigureAwait(false)
                ?? throw Errors.Data(path.Value, "wal object vanished during replay");
            // Every zero-byte object reads as a fence until the fence loop above writes v2 fence records and sets the
            // manifest's wal_v1_fences_below (issue 9): then pass id < manifest.WalV1FencesBelow here.
            yield return (id, WalObjectCodec.Decode(result.Data, path.Value, zeroByteIsFence: true));
        }
    }
}
