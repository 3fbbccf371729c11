using SlateSharp.Storage;
using SlateSharp.Telemetry;

namespace SlateSharp.Manifest;

/// <summary>
/// The one component that decides who may change the database. A writer (or compactor) claims the database by
/// writing the next manifest version with its role's epoch incremented; from then on every change goes through
/// <see cref="UpdateAsync(Func{DbManifest, DbManifest}, IReadOnlyCollection{SstId}, ManifestUpdateAttempt?, CancellationToken)"/>,
/// which writes the next version with create-if-absent. When that id is taken the holder re-reads: a higher epoch
/// for its role means a newer claimant exists and this instance is fenced (it throws Closed/Fenced, now and on every
/// later call, without touching storage); otherwise another role changed something and the change is re-applied on
/// the fresh version. After every successful write the held manifest and id are exactly what was stored, so the next
/// update never conflicts with this instance's own previous write.
/// <para>
/// Changes must be idempotent: applied to a manifest that already holds them they return their input. That is how
/// an ambiguous write is settled: after a lost answer, a transient failure or an "already exists" that may be our
/// own landed write, the holder re-reads and re-applies the change; if the stored chain already holds it, the update
/// has succeeded and nothing is written twice. When an update fails anyway, <see cref="ResolveAsync"/> tells whether
/// the change may be stored. Calls are serialised; see docs/design/manifest-and-fencing.md.
/// </para>
/// </summary>
internal sealed class FenceableManifest : IDisposable
{
    private readonly ManifestStore _store;
    private readonly ManifestOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly DbTelemetry _telemetry;
    private VersionedManifest _current;
    private SlateSharpException? _fenced;

    private FenceableManifest(ManifestStore store, ManifestOptions options, ManifestRole role, VersionedManifest claimed)
    {
        _store = store;
        _options = options;
        _telemetry = new DbTelemetry(store.Store.Location);
        Role = role;
        _current = claimed;
        Epoch = EpochOf(claimed.Manifest, role);
    }

    public ManifestRole Role { get; }

    /// <summary>This instance's epoch for its role.</summary>
    public ulong Epoch { get; }

    /// <summary>The id of the manifest this instance holds (the last one it wrote or read).</summary>
    public ulong Id => Volatile.Read(ref _current).Id;

    /// <summary>The manifest this instance holds.</summary>
    public DbManifest Manifest => Volatile.Read(ref _current).Manifest;

    /// <summary>The manifest this instance holds with its id, read together.</summary>
    public VersionedManifest Current => Volatile.Read(ref _current);

    public bool IsFenced => Volatile.Read(ref _fenced) is not null;

    /// <summary>Create-if-absent manifest writes that found their id taken (through this instance's store).</summary>
    public long Conflicts => _store.Conflicts;

    /// <summary>Claims the database for a writer: the stored writer epoch plus one.</summary>
    public static ValueTask<FenceableManifest> InitWriterAsync(ManifestStore store, ManifestOptions options, CancellationToken cancellationToken) =>
        ClaimAsync(store, options, ManifestRole.Writer, cancellationToken);

    /// <summary>Claims the database for a compactor: the stored compactor epoch plus one.</summary>
    public static ValueTask<FenceableManifest> InitCompactorAsync(ManifestStore store, ManifestOptions options, CancellationToken cancellationToken) =>
        ClaimAsync(store, options, ManifestRole.Compactor, cancellationToken);

    /// <summary>An update that references no new SST.</summary>
    public ValueTask<DbManifest> UpdateAsync(Func<DbManifest, DbManifest> change, CancellationToken cancellationToken) =>
        UpdateAsync(change, [], null, cancellationToken);

    /// <summary>An update that may reference the SSTs in <paramref name="newSsts"/>, which the caller has written.</summary>
    public ValueTask<DbManifest> UpdateAsync(Func<DbManifest, DbManifest> change, IReadOnlyCollection<SstId> newSsts, CancellationToken cancellationToken) =>
        UpdateAsync(change, newSsts, null, cancellationToken);

    /// <summary>
    /// Applies the idempotent <paramref name="change"/> to the held manifest and stores the result as the next version.
    /// It may reference, besides what the manifest already does, only <paramref name="newSsts"/> (objects the caller
    /// has written: an invariant checked before each write). On a lost race with another role, or an ambiguous write,
    /// re-reads and applies the change again to the fresh version, until the update timeout. Returns the stored
    /// manifest; a change that returns its input writes nothing. <paramref name="attempt"/>, when given, records every
    /// write sent, for <see cref="ResolveAsync"/> after a failure.
    /// </summary>
    public async ValueTask<DbManifest> UpdateAsync(
        Func<DbManifest, DbManifest> change, IReadOnlyCollection<SstId> newSsts, ManifestUpdateAttempt? attempt, CancellationToken cancellationToken)
    {
        ThrowIfFenced();
        using var activity = _telemetry.StartActivity(ActivityNames.ManifestUpdate);
        activity?.SetTag("slatesharp.role", Role.ToString().ToLowerInvariant());
        try
        {
            var updated = await UpdateCoreAsync(change, newSsts, attempt, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("slatesharp.manifest.id", Id);
            return updated;
        }
        catch (Exception e)
        {
            activity.Fail(e);
            throw;
        }
    }

    private async ValueTask<DbManifest> UpdateCoreAsync(
        Func<DbManifest, DbManifest> change, IReadOnlyCollection<SstId> newSsts, ManifestUpdateAttempt? attempt, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFenced();
            var started = _options.TimeProvider.GetTimestamp();
            var failures = 0;
            var mustReread = false;
            ulong expectStoredAtLeast = 0;
            while (true)
            {
                if (mustReread)
                {
                    // After a lost race, a lost answer or a failed read: learn what is stored (fencing applies).
                    try
                    {
                        await AdoptNewerAsync(_current, cancellationToken).ConfigureAwait(false);
                    }
                    catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
                    {
                        await BackOffAsync(++failures, started, e, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    mustReread = false;
                    if (_current.Id < expectStoredAtLeast)
                    {
                        // "Already exists" yet nothing is there: a false answer, and our write may still land.
                        await BackOffAsync(++failures, started, null, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        ThrowIfTimedOut(started, "update", null);
                    }
                }

                var current = _current;
                var next = change(current.Manifest);
                if (ReferenceEquals(next, current.Manifest) || next.Equals(current.Manifest))
                {
                    // Nothing to do, or the change is already stored (an earlier write of ours landed).
                    return current.Manifest;
                }

                CheckTransition(current, next, newSsts);
                var id = current.Id + 1;
                bool stored;
                try
                {
                    stored = await _store.TryWriteAsync(id, next, cancellationToken, () =>
                    {
                        ThrowIfFenced();
                        attempt?.Sent(id);
                    }).ConfigureAwait(false);
                }
                catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
                {
                    // Sent, outcome unknown: re-read and re-apply (the change finds itself if the write landed).
                    await BackOffAsync(++failures, started, e, cancellationToken).ConfigureAwait(false);
                    mustReread = true;
                    expectStoredAtLeast = 0;
                    continue;
                }

                if (stored)
                {
                    Volatile.Write(ref _current, new VersionedManifest(id, next));
                    return next;
                }

                mustReread = true;
                expectStoredAtLeast = id;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// After a failed update: reads every id <paramref name="attempt"/> wrote without a "stored" answer and tells
    /// whether one of them holds the change (<paramref name="isApplied"/> recognises it). An id with nothing stored
    /// leaves the outcome unknown (the write may still land); an id holding another version settles that write as
    /// lost. Works on a fenced instance (it only reads). Read failures propagate: the caller treats them as unknown.
    /// </summary>
    public async ValueTask<ManifestChangeState> ResolveAsync(ManifestUpdateAttempt attempt, Func<DbManifest, bool> isApplied, CancellationToken cancellationToken)
    {
        var unknown = false;
        foreach (var id in attempt.UnsettledIds)
        {
            var stored = await _store.ReadAsync(id, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                unknown = true;
            }
            else if (isApplied(stored.Manifest))
            {
                return ManifestChangeState.Applied;
            }
        }

        return unknown ? ManifestChangeState.Unknown : ManifestChangeState.NotApplied;
    }

    /// <summary>
    /// Records that another part of the same instance (the WAL writer, finding a newer writer's fence) learned that it
    /// is fenced: from now on this holder writes nothing either.
    /// </summary>
    public void MarkFenced(SlateSharpException reason)
    {
        if (reason.IsFenced)
        {
            Interlocked.CompareExchange(ref _fenced, reason, null);
        }
    }

    /// <summary>Moves to the newest stored version; throws Closed/Fenced when a newer claimant exists.</summary>
    public async ValueTask<DbManifest> RefreshAsync(CancellationToken cancellationToken)
    {
        ThrowIfFenced();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFenced();
            await AdoptNewerAsync(_current, cancellationToken).ConfigureAwait(false);
            return _current.Manifest;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async ValueTask<FenceableManifest> ClaimAsync(
        ManifestStore store, ManifestOptions options, ManifestRole role, CancellationToken cancellationToken)
    {
        var started = options.TimeProvider.GetTimestamp();
        var current = await store.ReadLatestAsync(cancellationToken).ConfigureAwait(false) ?? new VersionedManifest(0, DbManifest.Empty);
        var failures = 0;
        while (true)
        {
            var claimed = role == ManifestRole.Writer
                ? current.Manifest with { WriterEpoch = current.Manifest.WriterEpoch + 1 }
                : current.Manifest with
                {
                    CompactorEpoch = current.Manifest.CompactorEpoch + 1,

                    // The previous compactor is fenced by this claim, so no job of its can publish what it registered.
                    UnpublishedCompactionOutputs = [],
                };
            bool stored;
            try
            {
                stored = await store.TryWriteAsync(current.Id + 1, claimed, cancellationToken).ConfigureAwait(false);
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable && options.TimeProvider.GetElapsedTime(started) < options.UpdateTimeout)
            {
                // Outcome unknown. Claim again on top of whatever is stored: if this claim landed, its epoch is simply
                // never used (nobody holds it), and the next claim takes a higher one.
                await Task.Delay(SettleBudget.Backoff(++failures), options.TimeProvider, cancellationToken).ConfigureAwait(false);
                stored = false;
            }

            if (stored)
            {
                return new FenceableManifest(store, options, role, new VersionedManifest(current.Id + 1, claimed));
            }

            current = current.Id == 0
                ? await store.ReadLatestAsync(cancellationToken).ConfigureAwait(false) ?? current
                : await store.RefreshAsync(current, cancellationToken).ConfigureAwait(false);
            if (options.TimeProvider.GetElapsedTime(started) > options.UpdateTimeout)
            {
                throw Errors.Unavailable(
                    $"could not claim the {RoleName(role)} epoch: other parties kept winning for {options.UpdateTimeout} (store={store.Store.Location} manifest_id={current.Id})");
            }
        }
    }

    /// <summary>After a lost race: read what is newer, fence if our role's epoch moved on, else hold the newer version.</summary>
    private async ValueTask AdoptNewerAsync(VersionedManifest current, CancellationToken cancellationToken)
    {
        var fresh = await _store.RefreshAsync(current, cancellationToken).ConfigureAwait(false);
        var storedEpoch = EpochOf(fresh.Manifest, Role);
        if (storedEpoch > Epoch)
        {
            _fenced = Errors.Fenced(
                $"fenced: a newer {RoleName(Role)} claimed the database (role={RoleName(Role)} epoch={Epoch} stored_epoch={storedEpoch} manifest_id={fresh.Id} path={ManifestStore.PathOf(fresh.Id)} store={_store.Store.Location})");
            throw _fenced;
        }

        if (storedEpoch < Epoch)
        {
            throw Errors.Internal(
                $"stored {RoleName(Role)} epoch went backwards (epoch={Epoch} stored_epoch={storedEpoch} path={ManifestStore.PathOf(fresh.Id)})");
        }

        Volatile.Write(ref _current, fresh);
    }

    private void CheckTransition(VersionedManifest current, DbManifest next, IReadOnlyCollection<SstId> newSsts)
    {
        if (ManifestTransitions.FindViolation(current.Manifest, next, Role, newSsts) is { } violation)
        {
            throw Errors.Internal(
                $"manifest invariant violated: {violation} (role={RoleName(Role)} manifest_id={current.Id + 1} path={ManifestStore.PathOf(current.Id + 1)})");
        }
    }

    /// <summary>Throws Closed/Fenced once any part of this instance has learned that a newer writer exists.</summary>
    public void ThrowIfFenced()
    {
        if (Volatile.Read(ref _fenced) is { } fenced)
        {
            throw Errors.Fenced(fenced.Message);
        }
    }

    /// <summary>Waits before trying again after a failure, or throws Unavailable when the update timeout is spent.</summary>
    private async ValueTask BackOffAsync(int failures, long started, SlateSharpException? failure, CancellationToken cancellationToken)
    {
        ThrowIfTimedOut(started, "update", failure);
        await Task.Delay(SettleBudget.Backoff(failures), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
    }

    private void ThrowIfTimedOut(long start, string what, SlateSharpException? lastFailure)
    {
        if (_options.TimeProvider.GetElapsedTime(start) > _options.UpdateTimeout)
        {
            var reason = lastFailure is null ? "kept losing races" : $"kept failing (last: {lastFailure.Message})";
            throw Errors.Unavailable(
                $"manifest {what} {reason} for {_options.UpdateTimeout}; whether its last write was stored is unknown (role={RoleName(Role)} manifest_id={Id} store={_store.Store.Location})",
                lastFailure);
        }
    }

    public void Dispose() => _gate.Dispose();

    private static ulong EpochOf(DbManifest manifest, ManifestRole role) =>
        role == ManifestRole.Writer ? manifest.WriterEpoch : manifest.CompactorEpoch;

    private static string RoleName(ManifestRole role) => role == ManifestRole.Writer ? "writer" : "compactor";
}
