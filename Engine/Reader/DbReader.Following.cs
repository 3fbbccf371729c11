using Microsoft.Extensions.Logging;
using SlateSharp.Leases;
using SlateSharp.Manifest;
using SlateSharp.Reader;

namespace SlateSharp;

/// <summary>Opening, polling and the lease: how the reader's view is made and replaced.</summary>
public sealed partial class DbReader
{
    private readonly Lock _pollWaitersLock = new();
    private readonly List<(long Count, TaskCompletionSource Done)> _pollWaiters = [];
    private long _polls;

    /// <summary>Polls completed by the background loop (successful or not).</summary>
    internal long Polls => Interlocked.Read(ref _polls);

    /// <summary>Completes once the background loop has completed <paramref name="count"/> polls.</summary>
    internal Task WhenPolledAsync(long count)
    {
        lock (_pollWaitersLock)
        {
            if (Polls >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _pollWaiters.Add((count, done));
            return done.Task;
        }
    }

    /// <summary>
    /// One poll, now: moves to the newest manifest and replays the WAL objects written since, then swaps the view.
    /// Reads in flight keep the view they started with. Does nothing on a checkpoint's frozen view.
    /// </summary>
    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_follower is null)
        {
            return;
        }

        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var view = await _follower.RefreshAsync(cancellationToken).ConfigureAwait(false);
            var previous = Volatile.Read(ref _view);
            Volatile.Write(ref _view, view);
            Volatile.Write(ref _failure, null);
            if (view.ManifestId != previous.ManifestId)
            {
                // Reads in flight on the previous view hold their readers (or reopen them): none is needed again.
                _readers.Forget(view.Manifest.SstIdsDroppedSince(previous.Manifest));
                _logger.LogDebug("reader of {Location} moved to manifest {Id}", Location, view.ManifestId);
                _lease?.Wake();
            }
        }
        catch (SlateSharpException e) when (e.Kind == ErrorKind.Data)
        {
            // The view stays what it was, a committed state, but reads say the reader is stuck until a poll gets past it.
            Volatile.Write(ref _failure, e);
            throw;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var latest = await _manifests.ReadLatestAsync(cancellationToken).ConfigureAwait(false)
            ?? throw Errors.Invalid($"no database here: the store holds no manifest (store={Location})");
        var served = _options.CheckpointId is { } checkpointId ? await CheckpointManifestAsync(latest, checkpointId, cancellationToken).ConfigureAwait(false) : latest;
        if (_options.UseLease)
        {
            // Before anything the manifest references is read: from here on GC elsewhere keeps it.
            _lease = new ReaderLeaseKeeper(new ReaderLeaseStore(_store), NewLeaseId(), _options.LeaseLifetime, _options.TimeProvider, _logger);
            await _lease.WriteAsync(served.Id, cancellationToken).ConfigureAwait(false);
        }

        if (_options.CheckpointId is null)
        {
            _follower = new WalFollower(_store, _manifests, NewMemtable);
            _view = await _follower.StartAsync(served, cancellationToken).ConfigureAwait(false);
            _pollTask = PollAsync(_background.Token);
        }
        else
        {
            _view = new ReaderView(null, served.Id, served.Manifest, served.Manifest.LastL0Sequence);
        }

        if (_lease is not null)
        {
            var lease = _lease;
            _leaseTask = lease.RunAsync(() => _inUse.Oldest(Volatile.Read(ref _view).ManifestId), _background.Token);
        }

        _logger.LogInformation(
            "reader opened {Location} at manifest {Id}{Checkpoint}", Location, _view.ManifestId, _options.CheckpointId is { } c ? $" (checkpoint {c})" : string.Empty);
    }

    private async Task<VersionedManifest> CheckpointManifestAsync(VersionedManifest latest, Guid id, CancellationToken cancellationToken)
    {
        var checkpoint = latest.Manifest.Checkpoints.FirstOrDefault(c => c.Id == id)
            ?? throw Errors.Invalid($"no checkpoint with this id in the current manifest: it was never created, or was deleted or expired and dropped (checkpoint={id} manifest={latest.Id} store={Location})");
        var now = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        if (!Db.IsLive(checkpoint, now))
        {
            throw Errors.Invalid(
                $"the checkpoint has expired (checkpoint={id} expired_at={DateTimeOffset.FromUnixTimeMilliseconds(checkpoint.ExpiresAt!.Value):O} store={Location})");
        }

        return await _manifests.ReadAsync(checkpoint.ManifestId, cancellationToken).ConfigureAwait(false)
            ?? throw Errors.Data(
                $"{ManifestStore.PathOf(checkpoint.ManifestId).Value} store={Location}", $"the manifest the checkpoint pins is missing (checkpoint={id})");
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.PollInterval, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SlateSharpException e)
            {
                _logger.LogWarning(e, "reader of {Location}: poll failed; serving manifest {Id} until a poll succeeds", Location, ManifestId);
            }

            CompletePoll();
        }
    }

    private void CompletePoll()
    {
        List<TaskCompletionSource> done = [];
        lock (_pollWaitersLock)
        {
            var count = Interlocked.Increment(ref _polls);
            _pollWaiters.RemoveAll(w =>
            {
                if (w.Count > count)
                {
                    return false;
                }

                done.Add(w.Done);
                return true;
            });
        }

        foreach (var waiter in done)
        {
            waiter.TrySetResult();
        }
    }
}
