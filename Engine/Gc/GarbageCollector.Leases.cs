using SlateSharp.Leases;
using SlateSharp.Storage;

namespace SlateSharp.Gc;

internal sealed partial class GarbageCollector
{
    /// <summary>A listed lease object and what it holds (null when it does not decode).</summary>
    private sealed record LeaseObject(ObjectMetadata Item, ReaderLease? Lease);

    /// <summary>
    /// Reads every lease object. Unlike <see cref="ReaderLeaseStore.ListAsync"/> it keeps each object's listing (path,
    /// size, stored time), which deletion needs. A lease that cannot be read fails the pass: it may pin a manifest.
    /// </summary>
    private async ValueTask<List<LeaseObject>> ReadLeasesAsync(CancellationToken cancellationToken)
    {
        var leases = new List<LeaseObject>();
        foreach (var item in await ListAsync(ReaderLeaseStore.Prefix, cancellationToken).ConfigureAwait(false))
        {
            var result = await _store.GetAsync(item.Path, ByteRange.All, cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                continue; // its reader closed since the listing
            }

            try
            {
                leases.Add(new LeaseObject(item, ReaderLeaseCodec.Decode(result.Data.Span, $"{item.Path.Value} store={_store.Location}")));
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Data)
            {
                leases.Add(new LeaseObject(item, null));
            }
        }

        return leases;
    }

    /// <summary>
    /// A lease protects nothing once expired; its object is deleted once it has been expired for longer than
    /// <see cref="GcOptions.LeaseGrace"/>. An object that is no lease is deleted once it was stored longer ago than
    /// the grace (a reader renews far more often).
    /// </summary>
    private async ValueTask CollectLeasesAsync(IReadOnlyList<LeaseObject> leases, DateTimeOffset now, GcReportBuilder report, CancellationToken cancellationToken)
    {
        var doomed = new List<ObjectMetadata>();
        foreach (var (item, lease) in leases)
        {
            if (lease is not null && lease.ExpiresAt > now.ToUnixTimeMilliseconds())
            {
                report.Kept(GcKeep.Referenced);
            }
            else if ((lease is null ? item.LastModified : DateTimeOffset.FromUnixTimeMilliseconds(lease.ExpiresAt)) + _options.LeaseGrace > now)
            {
                report.Kept(GcKeep.TooYoung);
            }
            else
            {
                doomed.Add(item);
            }
        }

        await DeleteAllAsync(GcObjectKind.Lease, doomed, report, cancellationToken).ConfigureAwait(false);
    }
}
