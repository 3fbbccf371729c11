using Microsoft.Extensions.Logging;
using SlateSharp.Storage;

namespace SlateSharp.Gc;

internal sealed partial class GarbageCollector
{
    /// <summary>
    /// Deletes manifest versions from the oldest up, one at a time, and stops at the first it keeps (one of the newest
    /// <see cref="GcOptions.ManifestsKept"/>, a live version, or one stored less than
    /// <see cref="GcOptions.ManifestMinAge"/> ago) or whose delete does not settle. Deleted ids are therefore always a
    /// prefix: a holder of version <c>n</c> that finds <c>n+1</c> missing and <c>n</c> still present knows <c>n</c> is
    /// the latest (ManifestStore.RefreshAsync). The latest is never deleted.
    /// </summary>
    private async ValueTask CollectManifestsAsync(
        IReadOnlyList<ObjectMetadata> listed, LiveManifests live, DateTimeOffset now, GcReportBuilder report, CancellationToken cancellationToken)
    {
        var ids = LiveManifests.ListedIdsWithItems(listed);
        var keptFrom = live.Latest.Id - (ulong)Math.Min((long)live.Latest.Id - 1, _options.ManifestsKept - 1);
        var ageCutoff = now - _options.ManifestMinAge;
        var stopped = false;
        foreach (var (id, item) in ids)
        {
            if (stopped)
            {
                report.Kept(GcKeep.Retained);
                continue;
            }

            GcKeep? keep = id >= keptFrom ? GcKeep.Retained
                : live.ById.ContainsKey(id) ? GcKeep.Referenced
                : item.LastModified > ageCutoff ? GcKeep.TooYoung
                : null;
            if (keep is { } reason)
            {
                report.Kept(reason);
                stopped = true;
                continue;
            }

            if (!await DeleteAsync(GcObjectKind.Manifest, item, report, cancellationToken).ConfigureAwait(false))
            {
                _logger.LogInformation("gc: manifest deletion stops at {Path}, whose delete did not settle", item.Path);
                stopped = true;
            }
        }

        foreach (var item in listed)
        {
            if (!Manifest.ManifestStore.TryParseId(item.Path, out _))
            {
                report.Kept(GcKeep.UnparseableName);
            }
        }
    }
}
