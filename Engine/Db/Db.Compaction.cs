using Microsoft.Extensions.Logging;
using SlateSharp.Compaction;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Telemetry;

namespace SlateSharp;

/// <summary>
/// How the writer follows the manifest others change: the embedded compactor (when <see cref="CompactionOptions.Enabled"/>)
/// and a periodic refresh, which also picks up a compactor in another process and learns of fencing without a write.
/// The read view moves to a newer manifest in one swap; the SSTs of the current view stay pinned for in-process GC.
/// </summary>
public sealed partial class Db
{
    /// <summary>What the compactor embedded in this process has done, or null when compaction runs elsewhere.</summary>
    public CompactionStats? CompactionStats => _compactor?.Stats;

    /// <summary>Total time flushes waited because L0 was full (writers wait behind them on <see cref="DbOptions.MaxUnflushedBytes"/>).</summary>
    public TimeSpan L0StallTime => _flusher.L0StallTime;

    internal Compactor? Compactor => _compactor;

    /// <summary>Moves the read view to <paramref name="manifest"/> if it is newer than the view's.</summary>
    private void AdvanceView(VersionedManifest manifest)
    {
        lock (_writeLock)
        {
            AdvanceViewLocked(manifest);
        }
    }

    /// <summary>
    /// One swap of the read view (readers take it without the lock, so it is assigned once): the manifest moves to
    /// <paramref name="manifest"/> when that is newer, and <paramref name="flushed"/>, if given, leaves the frozen
    /// memtables. The caller holds the write lock.
    /// </summary>
    private void AdvanceViewLocked(VersionedManifest manifest, Memtable.ImmutableMemtable? flushed = null)
    {
        var view = _view;
        var immutables = flushed is null ? view.Immutables : view.Immutables.Remove(flushed);
        if (manifest.Id <= view.ManifestId || _stopped is not null)
        {
            if (flushed is not null)
            {
                InstallViewLocked(view with { Immutables = immutables });
            }

            return;
        }

        InstallViewLocked(view with { Immutables = immutables, Manifest = manifest.Manifest, ManifestId = manifest.Id });
        _readers.Forget(manifest.Manifest.SstIdsDroppedSince(view.Manifest));
    }

    private void OnCompactionPublished(VersionedManifest manifest)
    {
        AdvanceView(manifest);

        // L0 may have room again.
        _flusher.Signal();
    }

    private async ValueTask StartCompactorAsync(CancellationToken cancellationToken)
    {
        var options = _options.Compaction;
        if (!options.Enabled)
        {
            return;
        }

        var manifest = await FenceableManifest.InitCompactorAsync(
            new ManifestStore(_store), new ManifestOptions(_options.ManifestUpdateTimeout, _options.TimeProvider), cancellationToken).ConfigureAwait(false);

        // The claim is a manifest version: hold it, so that the writer's first flush does not lose a race to it.
        await _manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
        AdvanceView(_manifest.Current);
        var ids = new SstIdGenerator(SstIdRole.Compactor, manifest.Epoch, _options.TimeProvider, new Random(_random.Next()));
        var executor = new CompactionExecutor(
            _store, _readers, SstOptions(_options), ids, _pins, options, _options.TimeProvider, static () => [], manifest.ThrowIfFenced, _logger, _options.MergeOperator);
        _compactor = new Compactor(manifest, new SizeTieredScheduler(options), executor, options, _options.TimeProvider, _logger, OnCompactionPublished, _telemetry);
        lock (_writeLock)
        {
            if (_stopping)
            {
                manifest.Dispose();
                _compactor = null;
                return;
            }

            _compactorTask = SuperviseCompactorAsync(_compactor);
        }
    }

    private async Task SuperviseCompactorAsync(Compactor compactor)
    {
        await Task.Yield();
        DbTelemetry.DetachFromCaller();
        try
        {
            await compactor.RunAsync(_background.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_background.IsCancellationRequested)
        {
        }
        catch (SlateSharpException e) when (e.IsFenced)
        {
            _logger.LogWarning("the embedded compactor stops: {Message}", e.Message);
        }
        catch (Exception e)
        {
            // Compaction stopping does not stop the database at once: it writes on until L0 is full, and then the
            // flusher fails with this cause instead of waiting for a compactor that will never run.
            _logger.LogError(e, "the embedded compactor failed and stops; the database stops once l0 is full (store={Location})", Location);
            Volatile.Write(ref _compactorFailure, e);
            _flusher.Signal();
        }
    }

    /// <summary>What the periodic refresh does, at once (tests).</summary>
    internal async Task RefreshViewAsync()
    {
        await _manifest.RefreshAsync(CancellationToken.None).ConfigureAwait(false);
        AdvanceView(_manifest.Current);
    }

    /// <summary>Every <see cref="DbOptions.ManifestPollInterval"/>: read what others stored, fence if a newer writer did.</summary>
    private async Task RefreshManifestAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(_options.ManifestPollInterval, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            try
            {
                await _manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
            {
                _logger.LogDebug("manifest refresh failed, trying again at the next interval: {Message}", e.Message);
                continue;
            }

            AdvanceView(_manifest.Current);
        }
    }

    internal static SstBuilderOptions SstOptions(DbOptions options) => new()
    {
        BlockSize = options.BlockSizeBytes,
        Codec = options.Compression,
        BloomBitsPerKey = options.BloomBitsPerKey,
    };
}
