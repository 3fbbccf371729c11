using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Compaction;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;

namespace SlateSharp;

/// <summary>
/// A compactor running on its own, in a process other than the writer's (whose <see cref="CompactionOptions.Enabled"/>
/// is then false). Opening claims the compactor epoch: a compactor opened later fences this one, and this one fences
/// any before it, the writer's embedded one included; writer and compactor never fence each other. A compactor killed
/// mid-job loses nothing: the job runs again, and its partial outputs are orphans for the garbage collector.
/// </summary>
public sealed class DbCompactor : IAsyncDisposable
{
    private readonly Compactor _compactor;
    private readonly FenceableManifest _manifest;
    private readonly IAsyncDisposable? _ownedStore;

    private DbCompactor(Compactor compactor, FenceableManifest manifest, SstReaderCache readers, IAsyncDisposable? ownedStore)
    {
        _compactor = compactor;
        _manifest = manifest;
        Readers = readers;
        _ownedStore = ownedStore;
    }

    /// <summary>The open SSTs of the compaction inputs (tests look at what it holds).</summary>
    internal SstReaderCache Readers { get; }

    /// <summary>This compactor's epoch: higher than every compactor before it.</summary>
    public ulong Epoch => _manifest.Epoch;

    /// <summary>What this compactor has done since it opened.</summary>
    public CompactionStats Stats => _compactor.Stats;

    /// <summary>
    /// Opens the compactor of the database at <paramref name="url"/> with <paramref name="options"/>' compaction, SST
    /// and clock settings, and its <see cref="DbOptions.MergeOperator"/>: give it the writer's operator so that
    /// compaction folds merge operands; without one it keeps them as they are (correct, only unfolded).
    /// </summary>
    public static async ValueTask<DbCompactor> OpenAsync(string url, DbOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DbOptions();
        options.Validate();
        var storeOptions = ObjectStoreOptions.For(options.ObjectStore, options.TimeProvider, options.LoggerFactory);
        var store = await ObjectStores.OpenAsync(url, storeOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            return await OpenCoreAsync(store, store, options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens the compactor of the database under <paramref name="path"/> of <paramref name="store"/>.</summary>
    public static ValueTask<DbCompactor> OpenAsync(IObjectStore store, string path, DbOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new DbOptions();
        options.Validate();
        return OpenCoreAsync(string.IsNullOrEmpty(path) ? store : new PrefixedObjectStore(store, path), null, options, cancellationToken);
    }

    /// <summary>Compacts until cancelled (returns) or fenced by a newer compactor (throws Closed/Fenced).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _compactor.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs one job if one is due; returns whether it did.</summary>
    public ValueTask<bool> RunOnceAsync(CancellationToken cancellationToken = default) => _compactor.RunOnceAsync(cancellationToken);

    /// <summary>Releases the store when this compactor opened it; a job in flight should be cancelled first.</summary>
    public ValueTask DisposeAsync()
    {
        _manifest.Dispose();
        return _ownedStore?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    private static async ValueTask<DbCompactor> OpenCoreAsync(IObjectStore store, IAsyncDisposable? ownedStore, DbOptions options, CancellationToken cancellationToken)
    {
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DbCompactor>();
        var manifest = await FenceableManifest.InitCompactorAsync(
            new ManifestStore(store), new ManifestOptions(options.ManifestUpdateTimeout, options.TimeProvider), cancellationToken).ConfigureAwait(false);
        var random = new Random(options.RandomSeed ?? System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue));
        var readers = new SstReaderCache(store, null, options.SstReaderCacheBytes);
        var sstOptions = Db.SstOptions(options);
        var ids = new SstIdGenerator(SstIdRole.Compactor, manifest.Epoch, options.TimeProvider, random);
        var executor = new CompactionExecutor(
            store, readers, sstOptions, ids, new SstPins(), options.Compaction, options.TimeProvider, static () => [], manifest.ThrowIfFenced, logger, options.MergeOperator);
        var seen = manifest.Manifest;
        void ForgetCompactedAway(VersionedManifest published)
        {
            // Only the compactor's loop publishes, one job at a time, so `seen` needs no lock.
            readers.Forget(published.Manifest.SstIdsDroppedSince(seen));
            seen = published.Manifest;
        }

        var compactor = new Compactor(
            manifest, new SizeTieredScheduler(options.Compaction), executor, options.Compaction, options.TimeProvider, logger,
            onPublished: ForgetCompactedAway, telemetry: new Telemetry.DbTelemetry(store.Location));
        logger.LogInformation("compactor of {Location} opened as epoch {Epoch}", store.Location, manifest.Epoch);
        return new DbCompactor(compactor, manifest, readers, ownedStore);
    }
}
