using Microsoft.Extensions.Logging;
using SlateSharp.Manifest;
using SlateSharp.Sst;

namespace SlateSharp.Compaction;

/// <summary>
/// Keeps a long job's outputs publishable. An SST is published only within <see cref="SstPublishing.Deadline"/> of
/// minting its id, because a collector in another process deletes unreferenced SSTs by age; a job that runs longer
/// registers the outputs it has minted in the manifest (<see cref="DbManifest.UnpublishedCompactionOutputs"/>) while
/// they are young, and every collector keeps registered SSTs as if referenced. Registration happens between output
/// SSTs, once the oldest unregistered output is <see cref="RegisterAfter"/> old, so a job shorter than that writes no
/// extra manifest. One instance serves one job; its ranges call it concurrently.
/// </summary>
internal sealed class UnpublishedOutputs(Func<IReadOnlyList<SstId>, CancellationToken, ValueTask> register, TimeProvider time, ILogger logger) : IDisposable
{
    /// <summary>
    /// A third of the deadline: an output is registered before it is too old to publish as long as each output SST
    /// takes less than two thirds of the deadline (ten minutes) to write, and a failed registration has another chance.
    /// </summary>
    public static readonly TimeSpan RegisterAfter = SstPublishing.Deadline / 3;

    private readonly Lock _lock = new();
    private readonly List<SstId> _unregistered = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Notes an output id the moment it is minted, before anything is written under it.</summary>
    public void Minted(SstId id)
    {
        lock (_lock)
        {
            _unregistered.Add(id);
        }
    }

    /// <summary>
    /// Registers every output minted so far once the oldest unregistered one is <see cref="RegisterAfter"/> old. A
    /// registration the store refuses for now is tried again after the next output, unless an output is already too
    /// old to publish (then the job cannot succeed and the error ends it); fencing ends the job too.
    /// </summary>
    public async ValueTask RegisterIfDueAsync(CancellationToken cancellationToken)
    {
        if (!IsDue())
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            List<SstId> batch;
            lock (_lock)
            {
                if (!IsDueLocked())
                {
                    return; // another range registered them while this one waited
                }

                batch = [.. _unregistered];
            }

            try
            {
                await register(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable && !batch.Any(id => SstPublishing.IsTooOld(id, time)))
            {
                logger.LogWarning(e, "could not register {Count} compaction outputs as unpublished; trying again after the next output", batch.Count);
                return;
            }

            lock (_lock)
            {
                // Only appends happened meanwhile, so the batch is still the list's prefix.
                _unregistered.RemoveRange(0, batch.Count);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The manifest with <paramref name="ids"/> added to its unpublished compaction outputs (idempotent: a manifest
    /// that already lists them all is returned as it is). An id already too old to publish is not registered: a
    /// collector may have deleted its object.
    /// </summary>
    public static DbManifest Register(DbManifest manifest, IReadOnlyList<SstId> ids, TimeProvider time)
    {
        var known = manifest.UnpublishedCompactionOutputs;
        var added = ids.Where(id => !known.Contains(id)).ToList();
        if (added.Count == 0)
        {
            return manifest;
        }

        foreach (var id in added)
        {
            SstPublishing.ThrowIfTooOld(id, time);
        }

        return manifest with { UnpublishedCompactionOutputs = [.. known.Concat(added).Order()] };
    }

    public void Dispose() => _gate.Dispose();

    private bool IsDue()
    {
        lock (_lock)
        {
            return IsDueLocked();
        }
    }

    private bool IsDueLocked() =>
        _unregistered.Count > 0 &&
        time.GetUtcNow().ToUnixTimeMilliseconds() - _unregistered.Min(id => id.UnixMilliseconds) >= (long)RegisterAfter.TotalMilliseconds;
}
