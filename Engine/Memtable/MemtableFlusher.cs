using Microsoft.Extensions.Logging;
using SlateSharp.Common;
using SlateSharp.Concurrency;
using SlateSharp.Iteration;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Telemetry;

namespace SlateSharp.Memtable;

/// <summary>What the flusher needs from the database it serves.</summary>
internal interface IFlushTarget
{
    /// <summary>The oldest frozen memtable not yet flushed, or null.</summary>
    ImmutableMemtable? OldestImmutable();

    /// <summary>The next WAL id the WAL writer will use (the manifest's <c>next_wal_id</c> may move there).</summary>
    ulong NextWalId { get; }

    /// <summary>Swaps the flushed memtable for its SST in the read view and releases its memory.</summary>
    void OnFlushed(ImmutableMemtable flushed, DbManifest stored);

    /// <summary>
    /// Why the embedded compactor, which makes room in L0, stopped for good; null while it runs, or when compaction
    /// is off or runs in another process (then L0 may still drain and the flusher waits).
    /// </summary>
    Exception? CompactionStopped { get; }
}

/// <summary>
/// Turns frozen memtables into L0 SSTs, oldest first, one at a time so flushes are recorded in order. For each: wait
/// until the WAL holds all its rows, stream the SST to <c>compacted/{ULID}.sst</c> (a pipe between builder and upload
/// keeps memory bounded), then record it in the manifest through the <see cref="FenceableManifest"/> — at the front
/// of L0, with <c>replay_after_wal_id</c> at its last WAL object and <c>last_l0_sequence</c> at its last row. When the
/// update fails (fenced, storage failing, stopped), the SST is deleted only if no stored manifest can reference it;
/// the error ends the flusher.
/// </summary>
internal sealed class MemtableFlusher(
    IObjectStore store,
    FenceableManifest manifest,
    SstBuilderOptions sstOptions,
    SstIdGenerator ids,
    SstPins pins,
    IFlushTarget target,
    int l0MaxSsts,
    TimeSpan l0PollInterval,
    TimeSpan retryTimeout,
    TimeProvider time,
    ILogger logger,
    DbTelemetry? telemetry = null,
    IMergeOperator? mergeOperator = null)
{
    private readonly DbTelemetry _telemetry = telemetry ?? DbTelemetry.Detached;
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(10);
    private readonly AsyncSignal _wake = new();

    public long SstsWritten { get; private set; }

    public long BytesWritten { get; private set; }

    /// <summary>Total time spent waiting because L0 was full.</summary>
    public TimeSpan L0StallTime { get; private set; }

    public void Signal() => _wake.Set();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var waitForRoom = false;
        while (true)
        {
            await _wake.WaitAsync(waitForRoom ? l0PollInterval : Timeout.InfiniteTimeSpan, time, cancellationToken).ConfigureAwait(false);
            waitForRoom = false;
            while (target.OldestImmutable() is { } oldest)
            {
                if (manifest.Manifest.L0.Count >= l0MaxSsts && !await HasRoomAfterRefreshAsync(cancellationToken).ConfigureAwait(false))
                {
                    waitForRoom = true;
                    break;
                }

                await FlushAsync(oldest, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask<bool> HasRoomAfterRefreshAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var refreshed = await manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
        var room = refreshed.L0.Count < l0MaxSsts;
        if (!room && target.CompactionStopped is { } cause)
        {
            // Nothing will make room: waiting would hang every flush and, once memory is full, every write.
            throw Errors.Internal(
                $"l0 is full ({refreshed.L0.Count} ssts, limit {l0MaxSsts}) and the embedded compactor has stopped ({cause.Message}); no flush can proceed", cause);
        }

        if (!room)
        {
            L0StallTime += l0PollInterval;
            _telemetry.FlusherStalled(l0PollInterval);
            logger.LogWarning("l0 is full ({Count} ssts, limit {Limit}); flushes wait for compaction", refreshed.L0.Count, l0MaxSsts);
        }
        else
        {
            L0StallTime += time.GetElapsedTime(started);
            _telemetry.FlusherStalled(time.GetElapsedTime(started));
        }

        return room;
    }

    private async ValueTask FlushAsync(ImmutableMemtable memtable, CancellationToken cancellationToken)
    {
        using var activity = _telemetry.StartActivity(ActivityNames.MemtableFlush);
        activity?.SetTag("slatesharp.memtable.bytes", memtable.Table.SizeBytes);
        activity?.SetTag("slatesharp.memtable.rows", memtable.Table.Count);
        try
        {
            await FlushCoreAsync(memtable, activity, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity.Fail(e);
            throw;
        }
    }

    private async ValueTask FlushCoreAsync(ImmutableMemtable memtable, System.Diagnostics.Activity? activity, CancellationToken cancellationToken)
    {
        var lastWalId = await memtable.LastWalIdAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        if (manifest.IsFenced)
        {
            await manifest.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!memtable.Table.HasRowsOutsideItsRangeDeletes())
        {
            await RecordRangeDeletesOnlyAsync(memtable, lastWalId, cancellationToken).ConfigureAwait(false);
            return;
        }

        SstId id;
        ObjectPath path;
        SstHandle handle;
        SstPins.Pin pin;
        var started = time.GetTimestamp();
        for (var failures = 1; ; failures++)
        {
            id = ids.Next();
            path = SstPaths.PathOf(id);

            // Pinned from the moment it is minted until the read view holds it: in-process GC never takes it.
            pin = pins.Acquire([id]);
            try
            {
                CrashPoints.Reached(CrashPoints.SstUploadBefore);
                handle = await WriteSstAsync(id, memtable.Table, cancellationToken).ConfigureAwait(false);
                CrashPoints.Reached(CrashPoints.SstUploadAfter);
                if (!SstPublishing.IsTooOld(id, time))
                {
                    break;
                }

                // The upload outlived the publish deadline: GC elsewhere may count it an orphan. Write it again.
                logger.LogWarning("sst {Path} took longer than the publish deadline to upload; writing it again under a new id", path);
                await DeleteOrphanAsync(path, Errors.Unavailable("publish deadline passed")).ConfigureAwait(false);
                pin.Dispose();
                continue;
            }
            catch (Exception e)
            {
                pin.Dispose();
                // No manifest write has named this SST: whatever part of it was uploaded is referenced by nothing. A
                // transient failure is worth another try (the memtable is still in memory; the SST gets a new id).
                await DeleteOrphanAsync(path, e).ConfigureAwait(false);
                var backoff = SettleBudget.Backoff(failures);
                if (e is SlateSharpException { Kind: ErrorKind.Unavailable } && !cancellationToken.IsCancellationRequested
                    && time.GetElapsedTime(started) + backoff < retryTimeout)
                {
                    logger.LogWarning("sst upload to {Path} failed, trying again in {Backoff} ms: {Error}", path, (long)backoff.TotalMilliseconds, e.Message);
                    await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                memtable.Flushed.TrySetException(e);
                throw;
            }
        }

        var attempt = new ManifestUpdateAttempt();
        DbManifest stored;
        try
        {
            // Idempotent: a manifest that already holds this flush (our own write, whose answer was lost) stays as it is.
            stored = await manifest.UpdateAsync(
                m => Holds(m, id, memtable.Table) ? m : SstPublishing.IsTooOld(id, time) ? throw Errors.Unavailable($"sst {id} passed its publish deadline while its manifest update was retried (path={path})") : m with
                {
                    L0 = [handle, .. m.L0],
                    ReplayAfterWalId = Math.Max(m.ReplayAfterWalId, lastWalId),
                    NextWalId = Math.Max(m.NextWalId, Math.Max(lastWalId + 1, target.NextWalId)),
                    LastL0Sequence = Math.Max(m.LastL0Sequence, memtable.Table.LastSequence),
                    RangeTombstones = WithRangeDeletesOf(m, memtable.Table),
                },
                [id],
                attempt,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            pin.Dispose();
            await ReleaseUnrecordedAsync(path, id, memtable.Table, attempt, e).ConfigureAwait(false);
            memtable.Flushed.TrySetException(e);
            throw;
        }

        SstsWritten++;
        BytesWritten += handle.Size;
        activity?.SetTag("slatesharp.sst.id", id.ToString());
        activity?.SetTag("slatesharp.sst.bytes", handle.Size);
        _telemetry.MemtableFlushed(handle.Size, time.GetElapsedTime(started));
        logger.LogDebug("flushed memtable to {Path} ({Bytes} bytes, {Rows} rows, replay after wal {WalId})", path, handle.Size, handle.EntryCount, lastWalId);

        // The view that takes the SST pins it for as long as it is current.
        target.OnFlushed(memtable, stored);
        pin.Dispose();
    }

    /// <summary>
    /// A memtable that holds range deletes and no rows they do not hide: no SST, only the manifest update that moves its range deletes
    /// there and the WAL position past it. Idempotent: a manifest whose <c>last_l0_sequence</c> already reaches the
    /// memtable's last sequence holds the update (ours, whose answer was lost). A failure ends the flusher with that
    /// error, as for an SST; nothing is left to clean up.
    /// </summary>
    private async ValueTask RecordRangeDeletesOnlyAsync(ImmutableMemtable memtable, ulong lastWalId, CancellationToken cancellationToken)
    {
        DbManifest stored;
        try
        {
            stored = await manifest.UpdateAsync(
                m => m.LastL0Sequence >= memtable.Table.LastSequence ? m : m with
                {
                    ReplayAfterWalId = Math.Max(m.ReplayAfterWalId, lastWalId),
                    NextWalId = Math.Max(m.NextWalId, Math.Max(lastWalId + 1, target.NextWalId)),
                    LastL0Sequence = memtable.Table.LastSequence,
                    RangeTombstones = WithRangeDeletesOf(m, memtable.Table),
                },
                [],
                new ManifestUpdateAttempt(),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            memtable.Flushed.TrySetException(e);
            throw;
        }

        logger.LogDebug("flushed a memtable of {Count} range deletes and no other visible rows to the manifest (replay after wal {WalId})", memtable.Table.RangeTombstones.Count, lastWalId);
        target.OnFlushed(memtable, stored);
    }

    /// <summary>The manifest's range deletes followed by the memtable's, all newer (memtables flush in order).</summary>
    private static IReadOnlyList<RangeTombstone> WithRangeDeletesOf(DbManifest manifest, MemoryTable table) =>
        table.RangeTombstones.Count == 0 ? manifest.RangeTombstones : [.. manifest.RangeTombstones, .. table.RangeTombstones];

    /// <summary>
    /// After a failed manifest update: the SST is deleted only when it is certain that no stored manifest references
    /// it (no write naming it was sent, or every one was settled as lost by reading the manifest at its id). A write
    /// that may have landed, or may still land, leaves the SST in place for the garbage collector: deleting an object
    /// a manifest references loses data.
    /// </summary>
    private async ValueTask ReleaseUnrecordedAsync(ObjectPath path, SstId id, MemoryTable table, ManifestUpdateAttempt attempt, Exception reason)
    {
        ManifestChangeState state;
        try
        {
            using var timeout = new CancellationTokenSource(ResolveTimeout, time);
            state = await manifest.ResolveAsync(attempt, m => Holds(m, id, table), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SlateSharpException or OperationCanceledException)
        {
            state = ManifestChangeState.Unknown;
        }

        if (state == ManifestChangeState.NotApplied)
        {
            await DeleteOrphanAsync(path, reason).ConfigureAwait(false);
        }
        else
        {
            logger.LogWarning(
                "manifest update for {Path} failed ({Reason}) but a manifest {State} references it; left in place for the garbage collector",
                path, reason.Message, state == ManifestChangeState.Applied ? "does" : "may");
        }
    }

    /// <summary>
    /// Whether <paramref name="manifest"/> holds the flush of <paramref name="table"/> as its SST <paramref name="id"/>:
    /// it lists the SST, or its <c>last_l0_sequence</c> reaches the memtable's last sequence — the SST may have been
    /// compacted into a sorted run since, under other ids, and adding it again would put old rows back in L0. Only
    /// this writer's flushes raise that sequence, in memtable order, and every memtable's rows lie above it until
    /// its own flush (replay skips what the manifest already holds), so it reaches the memtable's last sequence only
    /// once this flush has landed.
    /// </summary>
    private static bool Holds(DbManifest manifest, SstId id, MemoryTable table) =>
        Lists(manifest, id) || manifest.LastL0Sequence >= table.LastSequence;

    private static bool Lists(DbManifest manifest, SstId id)
    {
        foreach (var handle in manifest.L0)
        {
            if (handle.Id == id)
            {
                return true;
            }
        }

        return manifest.SortedRuns.Any(run => run.Ssts.Any(h => h.Id == id));
    }

    private ValueTask<SstHandle> WriteSstAsync(SstId id, MemoryTable table, CancellationToken cancellationToken) =>
        SstUpload.WriteAsync(store, id, sstOptions, (builder, token) => AddNewestVersionsAsync(builder, table, mergeOperator, token), manifest.ThrowIfFenced, cancellationToken);

    private static async ValueTask AddNewestVersionsAsync(SstBuilder builder, MemoryTable table, IMergeOperator? mergeOperator, CancellationToken cancellationToken)
    {
        // Newest version per key only (tombstones kept: older versions may lie below in L0 and sorted runs). Expiry is
        // left to compaction, so a flush never changes what a read of the memtable returned.
        // Merge operands are folded into a put below them in this memtable (or combined) when an operator is set.
        // The memtable's own range deletes apply (older ones in the manifest hold nothing of it: they flushed before).
        var retention = RowRetention.NewestOnly(long.MinValue, mergeOperator, table.RangeTombstones);
        var rows = table.CreateIterator();
        var more = true;
        while (more)
        {
            more = await rows.MoveNextAsync(cancellationToken).ConfigureAwait(false);
            if (more)
            {
                retention.Add(rows.Current);
            }
            else
            {
                retention.Finish();
            }

            while (retention.TryTake(out var row))
            {
                if (builder.Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt))
                {
                    await builder.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private async ValueTask DeleteOrphanAsync(ObjectPath path, Exception reason)
    {
        try
        {
            await store.DeleteAsync(path, CancellationToken.None).ConfigureAwait(false);
            logger.LogInformation("deleted orphan sst {Path} after {Reason}", path, reason.Message);
        }
        catch (SlateSharpException e)
        {
            logger.LogWarning(e, "could not delete orphan sst {Path}; the garbage collector will", path);
        }
    }
}
