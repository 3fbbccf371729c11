using SlateSharp.Format;
using SlateSharp.Storage;
using SlateSharp.Wal;

namespace SlateSharp.Gc;

internal sealed partial class GarbageCollector
{
    /// <summary>
    /// WAL objects at or below the lowest live <c>replay_after_wal_id</c> (their rows are in SSTs every live manifest
    /// references) stored longer ago than <see cref="GcOptions.WalMinAge"/>; never the highest-id WAL object; and a
    /// fence record only once it is older than <see cref="GcOptions.FenceMinAge"/>: a writer paused in the middle of a
    /// put that resumes and finds no fence at its id would store its object there and take it as durable, though no
    /// later writer replays that id.
    /// </summary>
    private async ValueTask CollectWalAsync(
        IReadOnlyList<ObjectMetadata> listed, LiveManifests live, DateTimeOffset now, GcReportBuilder report, CancellationToken cancellationToken)
    {
        var cutoffId = live.WalCutoff;
        var ageCutoff = now - _options.WalMinAge;
        var fenceCutoff = now - _options.FenceMinAge;
        ulong highest = 0;
        foreach (var item in listed)
        {
            if (WalPaths.TryParseId(item.Path, out var id))
            {
                highest = Math.Max(highest, id);
            }
        }

        var doomed = new List<ObjectMetadata>();
        foreach (var item in listed)
        {
            if (!WalPaths.TryParseId(item.Path, out var id))
            {
                report.Kept(GcKeep.UnparseableName);
            }
            else if (id == highest)
            {
                report.Kept(GcKeep.Retained);
            }
            else if (id > cutoffId)
            {
                report.Kept(GcKeep.Referenced);
            }
            else if (item.LastModified > ageCutoff)
            {
                report.Kept(GcKeep.TooYoung);
            }
            else if (item.LastModified > fenceCutoff && await MayBeFenceAsync(item, cancellationToken).ConfigureAwait(false))
            {
                report.Kept(GcKeep.Fence);
            }
            else
            {
                doomed.Add(item);
            }
        }

        await DeleteAllAsync(GcObjectKind.Wal, doomed, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// True for a fence record: a zero-byte object (a format 1 fence, or corrupt) or one of the fence record's length
    /// that decodes as a fence or cannot be read. When in doubt it is a fence, and kept.
    /// </summary>
    private async ValueTask<bool> MayBeFenceAsync(ObjectMetadata item, CancellationToken cancellationToken)
    {
        if (item.Size == 0)
        {
            return true;
        }

        if (item.Size != WalObjectCodec.FenceLength)
        {
            return false;
        }

        try
        {
            var result = await _store.GetAsync(item.Path, ByteRange.All, cancellationToken).ConfigureAwait(false);
            return result is not null && (WalRecovery.TryDecode(result.Data, item.Path, zeroByteIsFence: false) is not { } decoded || decoded.IsFence);
        }
        catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
        {
            return true;
        }
    }
}
