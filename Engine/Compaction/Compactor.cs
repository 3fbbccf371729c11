using Microsoft.Extensions.Logging;
using SlateSharp.Common;
using SlateSharp.Concurrency;
using SlateSharp.Manifest;
using SlateSharp.Storage;
using SlateSharp.Telemetry;

namespace SlateSharp.Compaction;

/// <summary>
/// The compaction loop of one compactor epoch: refresh the manifest, ask the scheduler for a job, run it, publish it
/// through the <see cref="FenceableManifest"/> (compactor role) with the idempotent <see cref="CompactionChange"/>,
/// repeat; sleep for the poll interval (or until signalled) when there is nothing to do. A newer compactor fences
/// this one (its next manifest write or upload fails with Closed/Fenced, which ends the loop). A failed job is retried
/// after a backoff: its outputs are deleted only when no stored manifest can reference them (the update was certainly
/// not applied), otherwise left to GC. See docs/design/compaction.md.
/// </summary>
internal sealed class Compactor(
    FenceableManifest manifest,
    ICompactionScheduler scheduler,
    CompactionExecutor executor,
    CompactionOptions options,
    TimeProvider time,
    ILogger logger,
    Action<VersionedManifest>? onPublished = null,
    DbTelemetry? telemetry = null)
{
    private readonly DbTelemetry _telemetry = telemetry ?? DbTelemetry.Detached;
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(10);
    private readonly AsyncSignal _wake = new();
    private readonly Lock _statsLock = new();
    private CompactionStats _stats = new(0, 0, 0, 0, 0, TimeSpan.Zero, 0);

    public CompactionStats Stats
    {
        get
        {
            lock (_statsLock)
            {
                return _stats;
            }
        }
    }

    public FenceableManifest Manifest => manifest;

    /// <summary>Wakes an idle loop (a flush added an L0 SST).</summary>
    public void Signal() => _wake.Set();

    /// <summary>Runs until cancelled or fenced (which throws Closed/Fenced).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            bool worked;
            try
            {
                worked = await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                failures = 0;
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
            {
                // A store that fails for now: the job runs again. A corrupt input (Data) or a bug (Internal) stops the
                // compactor with that error instead of retrying it forever.
                failures++;
                logger.LogWarning(e, "compaction failed ({Failures} in a row); trying again", failures);
                await Task.Delay(SettleBudget.Backoff(failures), time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!worked)
            {
                await _wake.WaitAsync(options.PollInterval, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs the next job, if any; returns whether there was one.</summary>
    public async ValueTask<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        var current = await manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (scheduler.Pick(current) is not { } picked)
        {
            return false;
        }

        var job = picked with { PickedFrom = current };

        var started = time.GetTimestamp();
        logger.LogDebug("compacting {Job}", job);
        using var activity = _telemetry.StartActivity(ActivityNames.Compaction);
        activity?.SetTag("slatesharp.compaction.sources", job.Sources.Count);
        activity?.SetTag("slatesharp.compaction.input_bytes", job.InputBytes);
        activity?.SetTag("slatesharp.compaction.output_run", job.OutputRunId);
        activity?.SetTag("slatesharp.compaction.bottom", job.Bottom);
        CompactionOutput output;
        try
        {
            using var unpublished = new UnpublishedOutputs(
                async (ids, token) => await manifest.UpdateAsync(m => UnpublishedOutputs.Register(m, ids, time), ids, token).ConfigureAwait(false), time, logger);
            output = await executor.RunAsync(job, cancellationToken, unpublished).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            CountFailure(activity, e, started);
            throw;
        }
        catch (Exception e)
        {
            activity.Fail(e);
            throw;
        }

        using (output)
        {
            CrashPoints.Reached(CrashPoints.CompactionOutputsWritten);
            var attempt = new ManifestUpdateAttempt();
            try
            {
                await manifest.UpdateAsync(m => CompactionChange.Apply(m, job, output.Ssts, time, output.DroppedRangeDeletes), output.Ssts.Select(s => s.Id).ToList(), attempt, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception e)
            {
                CountFailure(activity, e, started);
                await ReleaseUnpublishedAsync(job, output, attempt, e).ConfigureAwait(false);
                throw;
            }

            CrashPoints.Reached(CrashPoints.CompactionPublished);

            // Before the outputs' pins go: the view that takes them pins them for as long as it is current.
            onPublished?.Invoke(manifest.Current);
        }

        var elapsed = time.GetElapsedTime(started);
        _telemetry.Compacted(published: true, output.BytesWritten, elapsed);
        activity?.SetTag("slatesharp.compaction.output_bytes", output.BytesWritten);
        lock (_statsLock)
        {
            _stats = _stats with
            {
                Jobs = _stats.Jobs + 1,
                BytesRead = _stats.BytesRead + job.InputBytes,
                BytesWritten = _stats.BytesWritten + output.BytesWritten,
                RowsRead = _stats.RowsRead + output.RowsRead,
                RowsWritten = _stats.RowsWritten + output.RowsWritten,
                Busy = _stats.Busy + elapsed,
            };
        }

        logger.LogInformation(
            "compacted {Job}: {Outputs} ssts, {Bytes} bytes in {Ms} ms", job, output.Ssts.Count, output.BytesWritten, (long)elapsed.TotalMilliseconds);
        return true;
    }

    private void CountFailure(System.Diagnostics.Activity? activity, Exception e, long started)
    {
        activity.Fail(e);
        _telemetry.Compacted(published: false, 0, time.GetElapsedTime(started));
        lock (_statsLock)
        {
            _stats = _stats with { FailedJobs = _stats.FailedJobs + 1 };
        }
    }

    /// <summary>After a failed publish: outputs go only when no stored manifest can name them.</summary>
    private async ValueTask ReleaseUnpublishedAsync(CompactionJob job, CompactionOutput output, ManifestUpdateAttempt attempt, Exception reason)
    {
        ManifestChangeState state;
        try
        {
            using var timeout = new CancellationTokenSource(ResolveTimeout, time);
            state = await manifest.ResolveAsync(attempt, m => CompactionChange.IsApplied(m, job, output.Ssts), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SlateSharpException or OperationCanceledException)
        {
            state = ManifestChangeState.Unknown;
        }

        if (state == ManifestChangeState.NotApplied)
        {
            await executor.DeleteUnpublishedAsync(output.Ssts.Select(s => s.Id), reason).ConfigureAwait(false);
        }
        else
        {
            logger.LogWarning("publishing compaction {Job} failed ({Reason}) but a manifest {State} reference its outputs; left for the garbage collector",
                job, reason.Message, state == ManifestChangeState.Applied ? "does" : "may");
        }
    }
}
