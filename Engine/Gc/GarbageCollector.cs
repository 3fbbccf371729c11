using Microsoft.Extensions.Logging;
using SlateSharp.Leases;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Telemetry;
using SlateSharp.Wal;

namespace SlateSharp.Gc;

/// <summary>
/// Deletes what no one can need any more: SSTs no live manifest references, an ascending prefix of old manifest
/// versions, WAL objects already in SSTs, and expired reader leases (docs/design/gc-and-readers.md, "Garbage
/// collection", gives each rule and why it is safe). One pass lists <c>compacted/</c>, <c>wal/</c> and
/// <c>leases/</c> before it reads any manifest, so an object stored after the manifests were read is young and kept
/// by its age. A delete that fails or whose answer is lost is reported and never counted as done. Safe to run from
/// any number of processes at once, beside the writer, compactor and readers.
/// </summary>
internal sealed partial class GarbageCollector
{
    private const int DeleteParallelism = 8;
    private static readonly IReadOnlySet<SstId> NoPins = new HashSet<SstId>();

    private readonly IObjectStore _store;
    private readonly GcOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<IReadOnlySet<SstId>> _inProcessPins;
    private readonly DbTelemetry _telemetry;

    /// <param name="store">The database's store, scoped to it (paths such as <c>manifest/…</c> at its root).</param>
    /// <param name="options">Validated here.</param>
    /// <param name="time">The clock every age is measured with.</param>
    /// <param name="logger">Where each pass logs its summary and failed deletes.</param>
    /// <param name="inProcessPins">SSTs this process still needs, whatever their age; read after the manifests are.</param>
    public GarbageCollector(IObjectStore store, GcOptions options, TimeProvider time, ILogger logger, Func<IReadOnlySet<SstId>>? inProcessPins = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
        _inProcessPins = inProcessPins ?? (() => NoPins);
        _telemetry = new DbTelemetry(store.Location);
    }

    /// <summary>
    /// One pass. Throws (having deleted nothing) when a listing, a lease or a live manifest cannot be read, or a live
    /// manifest is missing (a Data error naming it); failed deletes do not throw, they are in the report.
    /// </summary>
    public async ValueTask<GcReport> RunOnceAsync(CancellationToken cancellationToken)
    {
        using var activity = _telemetry.StartActivity(ActivityNames.GarbageCollection);
        GcReport result;
        try
        {
            result = await RunPassAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity.Fail(e);
            throw;
        }

        activity?.SetTag("slatesharp.gc.dry_run", result.DryRun);
        activity?.SetTag("slatesharp.gc.failures", result.Failures.Count);
        if (!result.DryRun)
        {
            _telemetry.GcDeleted("sst", result.Ssts.Count);
            _telemetry.GcDeleted("wal", result.WalObjects.Count);
            _telemetry.GcDeleted("manifest", result.Manifests.Count);
            _telemetry.GcDeleted("lease", result.Leases.Count);
        }

        return result;
    }

    private async ValueTask<GcReport> RunPassAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var report = new GcReportBuilder(_options.DryRun, now);

        // Everything deletable is listed before any manifest is read (see the class comment).
        var ssts = await ListAsync(SstPaths.Prefix, cancellationToken).ConfigureAwait(false);
        var wal = await ListAsync(WalPaths.Prefix, cancellationToken).ConfigureAwait(false);
        var leases = await ReadLeasesAsync(cancellationToken).ConfigureAwait(false);
        var manifests = await ListAsync(ManifestStore.Prefix, cancellationToken).ConfigureAwait(false);

        var live = await LiveManifests.ReadAsync(
            new ManifestStore(_store), manifests, [.. leases.Select(l => l.Lease).OfType<ReaderLease>()], now, _options.SstMinAge, cancellationToken)
            .ConfigureAwait(false);
        if (live is null)
        {
            _logger.LogInformation("gc: {Location} has no manifest yet; nothing to collect", _store.Location);
            return report.Build();
        }

        report.LatestManifestId = live.Latest.Id;
        report.LiveManifestIds = [.. live.ById.Keys.Order()];

        await CollectSstsAsync(ssts, live, now, report, cancellationToken).ConfigureAwait(false);
        await CollectWalAsync(wal, live, now, report, cancellationToken).ConfigureAwait(false);
        await CollectManifestsAsync(manifests, live, now, report, cancellationToken).ConfigureAwait(false);
        await CollectLeasesAsync(leases, now, report, cancellationToken).ConfigureAwait(false);

        var result = report.Build();
        _logger.LogInformation(
            "gc {Location}{DryRun}: {Ssts} ssts ({SstBytes} bytes), {Manifests} manifests, {Wal} wal objects, {Leases} leases {Verb}; {Kept} kept; {Failures} failed deletes",
            _store.Location, result.DryRun ? " (dry run)" : string.Empty, result.Ssts.Count, result.Ssts.Bytes, result.Manifests.Count,
            result.WalObjects.Count, result.Leases.Count, result.DryRun ? "would be deleted" : "deleted", result.Kept.Total, result.Failures.Count);
        return result;
    }

    /// <summary>
    /// Collects every <paramref name="interval"/> until cancelled. A failed pass is logged and the next one runs as
    /// planned: collection failing never stops the caller (a database, or the gc process).
    /// </summary>
    public async Task RunEveryAsync(TimeSpan interval, Action<GcReport>? onReport, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
                var report = await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                onReport?.Invoke(report);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "gc of {Location} failed; the next pass runs in {Interval}", _store.Location, interval);
            }
        }
    }

    /// <summary>
    /// SSTs referenced by no live manifest, not pinned in this process, whose id was minted and whose object was stored
    /// longer ago than <see cref="GcOptions.SstMinAge"/>. Writers and the compactor publish an SST within a deadline
    /// of minting its id, shorter than the minimum age, so an SST about to be published is never old enough.
    /// </summary>
    private async ValueTask CollectSstsAsync(
        IReadOnlyList<ObjectMetadata> listed, LiveManifests live, DateTimeOffset now, GcReportBuilder report, CancellationToken cancellationToken)
    {
        var referenced = live.ReferencedSsts();
        var pins = _inProcessPins();
        var cutoff = now - _options.SstMinAge;
        var doomed = new List<ObjectMetadata>();
        foreach (var item in listed)
        {
            if (!TryParseSstId(item.Path, out var id))
            {
                report.Kept(GcKeep.UnparseableName);
            }
            else if (referenced.Contains(id))
            {
                report.Kept(GcKeep.Referenced);
            }
            else if (pins.Contains(id))
            {
                report.Kept(GcKeep.PinnedInProcess);
            }
            else if (DateTimeOffset.FromUnixTimeMilliseconds(id.UnixMilliseconds) > cutoff || item.LastModified > cutoff)
            {
                report.Kept(GcKeep.TooYoung);
            }
            else
            {
                doomed.Add(item);
            }
        }

        await DeleteAllAsync(GcObjectKind.Sst, doomed, report, cancellationToken).ConfigureAwait(false);
    }

    internal static bool TryParseSstId(ObjectPath path, out SstId id)
    {
        id = default;
        var value = path.Value;
        return value.Length == SstPaths.Prefix.Length + 26 + ".sst".Length &&
               value.StartsWith(SstPaths.Prefix, StringComparison.Ordinal) &&
               value.EndsWith(".sst", StringComparison.Ordinal) &&
               SstId.TryParse(value.AsSpan(SstPaths.Prefix.Length, 26), out id) &&
               SstPaths.PathOf(id) == path;
    }

    private async ValueTask<List<ObjectMetadata>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var items = new List<ObjectMetadata>();
        await foreach (var item in _store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            items.Add(item);
        }

        return items;
    }

    private async ValueTask DeleteAllAsync(GcObjectKind kind, IReadOnlyList<ObjectMetadata> doomed, GcReportBuilder report, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(
            doomed,
            new ParallelOptions { MaxDegreeOfParallelism = DeleteParallelism, CancellationToken = cancellationToken },
            async (item, ct) => await DeleteAsync(kind, item, report, ct).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>
    /// Deletes one object (or, in a dry run, records that it would). True only when the store confirmed the delete:
    /// a failure or a lost answer leaves the object possibly present, reported, for the next pass to try again.
    /// </summary>
    private async ValueTask<bool> DeleteAsync(GcObjectKind kind, ObjectMetadata item, GcReportBuilder report, CancellationToken cancellationToken)
    {
        if (_options.DryRun)
        {
            report.Deleted(kind, item);
            return true;
        }

        try
        {
            await _store.DeleteAsync(item.Path, cancellationToken).ConfigureAwait(false);
        }
        catch (SlateSharpException e)
        {
            _logger.LogWarning("gc: the delete of {Path} did not settle (it may or may not be gone; the next pass tries again): {Error}", item.Path, e.Message);
            report.Failed(kind, item.Path, e.Message);
            return false;
        }

        report.Deleted(kind, item);
        return true;
    }
}
