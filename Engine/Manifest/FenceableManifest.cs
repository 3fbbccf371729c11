namespace SlateSharp.Manifest;

/// <summary>
/// The one component that decides who may change the database. A writer (or compactor) claims the database by
/// writing the next manifest version with its role's epoch incremented; from then on every change goes through
/// <see cref="UpdateAsync"/>, which writes the next version with create-if-absent. When that id is taken the holder
/// re-reads: a higher epoch for its role means a newer claimant exists and this instance is fenced (it throws
/// Closed/Fenced, now and on every later call, without touching storage); otherwise another role changed something
/// and the change is re-applied on the fresh version. After every successful write the held manifest and id are
/// exactly what was stored, so the next update never conflicts with this instance's own previous write.
/// Calls are serialised; see docs/design/manifest-and-fencing.md.
/// </summary>
internal sealed class FenceableManifest : IDisposable
{
    private readonly ManifestStore _store;
    private readonly ManifestOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<SstId> _written = [];
    private VersionedManifest _current;
    private SlateSharpException? _fenced;

    private FenceableManifest(ManifestStore store, ManifestOptions options, ManifestRole role, VersionedManifest claimed)
    {
        _store = store;
        _options = options;
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

    public bool IsFenced => _fenced is not null;

    /// <summary>Create-if-absent manifest writes that found their id taken (through this instance's store).</summary>
    public long Conflicts => _store.Conflicts;

    /// <summary>Claims the database for a writer: the stored writer epoch plus one.</summary>
    public static ValueTask<FenceableManifest> InitWriterAsync(ManifestStore store, ManifestOptions options, CancellationToken cancellationToken) =>
        ClaimAsync(store, options, ManifestRole.Writer, cancellationToken);

    /// <summary>Claims the database for a compactor: the stored compactor epoch plus one.</summary>
    public static ValueTask<FenceableManifest> InitCompactorAsync(ManifestStore store, ManifestOptions options, CancellationToken cancellationToken) =>
        ClaimAsync(store, options, ManifestRole.Compactor, cancellationToken);

    /// <summary>Declares an SST object as written, so updates may reference it (an invariant checked before each write).</summary>
    public void RecordWritten(SstId id)
    {
        lock (_written)
        {
            _written.Add(id);
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the held manifest and stores the result as the next version. On a lost race
    /// with another role, re-reads and applies <paramref name="change"/> again to the fresh version, until the update
    /// timeout. Returns the stored manifest; a change that returns its input writes nothing.
    /// </summary>
    public async ValueTask<DbManifest> UpdateAsync(Func<DbManifest, DbManifest> change, CancellationToken cancellationToken)
    {
        ThrowIfFenced();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFenced();
            var started = _options.TimeProvider.GetTimestamp();
            while (true)
            {
                var current = _current;
                var next = change(current.Manifest);
                if (ReferenceEquals(next, current.Manifest) || next.Equals(current.Manifest))
                {
                    return current.Manifest;
                }

                CheckTransition(current, next);
                if (await _store.TryWriteAsync(current.Id + 1, next, cancellationToken).ConfigureAwait(false))
                {
                    Volatile.Write(ref _current, new VersionedManifest(current.Id + 1, next));
                    return next;
                }

                await AdoptNewerAsync(current, cancellationToken).ConfigureAwait(false);
                ThrowIfTimedOut(started, "update");
            }
        }
        finally
        {
            _gate.Release();
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
        while (true)
        {
            var claimed = role == ManifestRole.Writer
                ? current.Manifest with { WriterEpoch = current.Manifest.WriterEpoch + 1 }
                : current.Manifest with { CompactorEpoch = current.Manifest.CompactorEpoch + 1 };
            if (await store.TryWriteAsync(current.Id + 1, claimed, cancellationToken).ConfigureAwait(false))
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

    private void CheckTransition(VersionedManifest current, DbManifest next)
    {
        string? violation;
        lock (_written)
        {
            violation = ManifestTransitions.FindViolation(current.Manifest, next, Role, _written);
        }

        if (violation is not null)
        {
            throw Errors.Internal(
                $"manifest invariant violated: {violation} (role={RoleName(Role)} manifest_id={current.Id + 1} path={ManifestStore.PathOf(current.Id + 1)})");
        }
    }

    private void ThrowIfFenced()
    {
        if (_fenced is { } fenced)
        {
            throw Errors.Fenced(fenced.Message);
        }
    }

    private void ThrowIfTimedOut(long start, string what)
    {
        if (_options.TimeProvider.GetElapsedTime(start) > _options.UpdateTimeout)
        {
            throw Errors.Unavailable(
                $"manifest {what} kept losing races for {_options.UpdateTimeout} (role={RoleName(Role)} manifest_id={Id} store={_store.Store.Location})");
        }
    }

    public void Dispose() => _gate.Dispose();

    private static ulong EpochOf(DbManifest manifest, ManifestRole role) =>
        role == ManifestRole.Writer ? manifest.WriterEpoch : manifest.CompactorEpoch;

    private static string RoleName(ManifestRole role) => role == ManifestRole.Writer ? "writer" : "compactor";
}
