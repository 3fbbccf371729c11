using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Memtable;
using SlateSharp.Read;
using SlateSharp.Reader;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Telemetry;

namespace SlateSharp;

/// <summary>
/// A read-only view of a database that a <see cref="Db"/> writes, possibly in another process or on another machine.
/// By default it follows the latest state: it polls for a newer manifest and replays the WAL objects written since,
/// so it sees the writer's durable writes (never its writes that are not yet durable) within about one
/// <see cref="DbReaderOptions.PollInterval"/>. With <see cref="DbReaderOptions.CheckpointId"/> it serves the frozen
/// state of one checkpoint. It never writes a manifest and needs no commit strategy; its only write is its lease
/// (<see cref="DbReaderOptions.UseLease"/>). Thread-safe. See docs/usage.md and docs/design/gc-and-readers.md.
/// </summary>
public sealed partial class DbReader : IAsyncDisposable
{
    private readonly IObjectStore _store;
    private readonly IAsyncDisposable? _ownedStore;
    private readonly DbReaderOptions _options;
    private readonly ILogger _logger;
    private readonly ManifestStore _manifests;
    private readonly SstReaderCache _readers;
    private readonly SstPins _pins = new();
    private readonly ManifestUse _inUse = new();
    private readonly ReadPath _read;
    private readonly Random _random;
    private readonly CancellationTokenSource _background = new();
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private WalFollower? _follower;
    private ReaderLeaseKeeper? _lease;
    private ReaderView _view = null!;
    private SlateSharpException? _failure;
    private int _disposed;
    private Task _pollTask = Task.CompletedTask;
    private Task _leaseTask = Task.CompletedTask;

    /// <summary>The open SSTs (tests look at what it holds).</summary>
    internal SstReaderCache Readers => _readers;

    private DbReader(IObjectStore store, IAsyncDisposable? ownedStore, DbReaderOptions options)
    {
        _store = store;
        _ownedStore = ownedStore;
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DbReader>();
        _manifests = new ManifestStore(store);
        _random = new Random(options.RandomSeed ?? System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue));
        _readers = new SstReaderCache(store, options.BlockCacheBytes > 0 ? new BlockCache(options.BlockCacheBytes) : null, options.SstReaderCacheBytes);
        _read = new ReadPath(_readers, _pins, new DbTelemetry(store.Location), options.TimeProvider, options.MergeOperator);
    }

    /// <summary>Where the database lives, e.g. <c>file:///mnt/bucket/db</c>.</summary>
    public string Location => _store.Location;

    /// <summary>The manifest version the reader serves now.</summary>
    public ulong ManifestId => Volatile.Read(ref _view).ManifestId;

    /// <summary>The checkpoint served, or null when following the latest state.</summary>
    public Guid? CheckpointId => _options.CheckpointId;

    /// <summary>The disk cache's counters since open, or null when <see cref="DbReaderOptions.DiskCache"/> is not set.</summary>
    public DiskCacheStats? DiskCacheStats => ObjectStoreStack.Find<Storage.Caching.DiskCachedObjectStore>(_store)?.Stats();

    internal SstPins Pins => _pins;

    internal Guid? LeaseId => _lease?.Id;

    internal ulong? LeaseManifestId => _lease?.WrittenManifestId;

    internal WalFollower? Follower => _follower;

    /// <summary>Rows in the view's memtable (replayed from the WAL and not yet in L0).</summary>
    internal int MemtableRows => Volatile.Read(ref _view).Table?.Count ?? 0;

    internal ReaderView View => Volatile.Read(ref _view);

    /// <summary>
    /// Opens a reader of the database at <paramref name="url"/> (<c>file:///dir</c>, <c>memory://name</c>,
    /// <c>s3://bucket/prefix</c>, <c>gs://bucket/prefix</c>). The store is opened without a commit strategy: a
    /// <c>file://</c> directory on a FUSE mount without hard links, renames or locks will do. Fails with
    /// <see cref="ErrorKind.Invalid"/> when no database is there, or when the checkpoint asked for does not exist or
    /// has expired.
    /// </summary>
    public static async ValueTask<DbReader> OpenAsync(string url, DbReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DbReaderOptions();
        options.Validate();
        var storeOptions = ObjectStoreOptions.For(options.ObjectStore, options.TimeProvider, options.LoggerFactory);
        var access = options.UseLease ? StoreAccess.OverwritesOnly : StoreAccess.ReadOnly;
        var store = await ObjectStores.OpenForAsync(url, storeOptions, access, cancellationToken).ConfigureAwait(false);
        return await OpenCoreAsync(store, store, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a reader of the database under <paramref name="path"/> ("" for the store's root) of <paramref name="store"/>.</summary>
    public static async ValueTask<DbReader> OpenAsync(IObjectStore store, string path, DbReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new DbReaderOptions();
        options.Validate();
        var scoped = string.IsNullOrEmpty(path) ? store : new PrefixedObjectStore(store, path);
        return await OpenCoreAsync(scoped, null, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The value of <paramref name="key"/>, or null when it is absent or deleted, as of the view served now.</summary>
    public ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var found = FindAsync(key, cancellationToken);
        return found.IsCompletedSuccessfully ? new(_read.ValueOf(found.Result)) : ValueOfAsync(found);

        async ValueTask<byte[]?> ValueOfAsync(ValueTask<RowEntry?> found) => _read.ValueOf(await found.ConfigureAwait(false));
    }

    /// <summary>
    /// Writes the value of <paramref name="key"/> to <paramref name="destination"/> and returns true, or returns false
    /// (writing nothing) when it is absent or deleted, as of the view served now: the same read as
    /// <see cref="GetAsync(ReadOnlyMemory{byte}, CancellationToken)"/> without allocating the value.
    /// </summary>
    public ValueTask<bool> GetAsync(ReadOnlyMemory<byte> key, IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var found = FindAsync(key, cancellationToken);
        return found.IsCompletedSuccessfully ? new(_read.CopyValue(found.Result, destination)) : CopyValueAsync(found, destination);

        async ValueTask<bool> CopyValueAsync(ValueTask<RowEntry?> found, IBufferWriter<byte> destination) =>
            _read.CopyValue(await found.ConfigureAwait(false), destination);
    }

    /// <summary>
    /// The values of <paramref name="keys"/> in the keys' order (null when absent or deleted), all as of the one view
    /// served now, as <see cref="Db.GetManyAsync"/>: keys in the same SST block cost one block read between them.
    /// </summary>
    public async ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> keys, CancellationToken cancellationToken = default)
    {
        Db.ValidateKeys(keys);
        ThrowIfUnusable();
        var (view, use) = Enter();
        using (use)
        {
            return await _read.GetManyAsync(() => view, keys, view.LastSequence, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The keys of <paramref name="range"/> with their values, ascending or descending (<see cref="ScanOptions.Reverse"/>),
    /// as of the view served when the scan starts (a later poll does not change what it returns). A reader sees only
    /// durable writes, so <see cref="ScanOptions.DurableOnly"/> changes nothing.
    /// </summary>
    public IAsyncEnumerable<KeyValue> ScanAsync(KeyRange range, ScanOptions? options = null, CancellationToken cancellationToken = default) =>
        ScanCoreAsync(range, options ?? ScanOptions.Default, cancellationToken);

    /// <summary>Every key starting with <paramref name="prefix"/> (<see cref="KeyRange.Prefix"/>), as <see cref="ScanAsync"/>.</summary>
    public IAsyncEnumerable<KeyValue> ScanPrefixAsync(ReadOnlyMemory<byte> prefix, ScanOptions? options = null, CancellationToken cancellationToken = default) =>
        ScanAsync(KeyRange.Prefix(prefix), options, cancellationToken);

    private async IAsyncEnumerable<KeyValue> ScanCoreAsync(KeyRange range, ScanOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        var (view, use) = Enter();
        using (use)
        {
            await foreach (var row in _read.ScanAsync(() => view, range, options, view.LastSequence, cancellationToken).ConfigureAwait(false))
            {
                yield return row;
            }
        }
    }

    /// <summary>Stops polling, deletes the lease and releases the store. Later calls do nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _background.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_pollTask, _leaseTask).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_lease is not null)
        {
            await _lease.DeleteAsync().ConfigureAwait(false);
        }

        _background.Dispose();
        if (_ownedStore is not null)
        {
            await _ownedStore.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async ValueTask<DbReader> OpenCoreAsync(IObjectStore store, IAsyncDisposable? ownedStore, DbReaderOptions options, CancellationToken cancellationToken)
    {
        using var activity = new DbTelemetry(store.Location).StartActivity(ActivityNames.OpenReader);
        try
        {
            (store, ownedStore) = SstDiskCache.Wrap(store, ownedStore, options.DiskCache, options.LoggerFactory);
        }
        catch (Exception e)
        {
            activity.Fail(e);
            if (ownedStore is not null)
            {
                await ownedStore.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        var reader = new DbReader(store, ownedStore, options);
        try
        {
            await reader.StartAsync(cancellationToken).ConfigureAwait(false);
            activity?.SetTag("slatesharp.manifest_id", reader.ManifestId);
            return reader;
        }
        catch (Exception e)
        {
            activity.Fail(e);
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The newest row of <paramref name="key"/> in the view served now, holding the view's manifest while it reads.</summary>
    private ValueTask<RowEntry?> FindAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        WriteBatch.ValidateKey(key.Span);
        ThrowIfUnusable();
        var (view, use) = Enter();
        ValueTask<RowEntry?> found;
        try
        {
            found = _read.FindAsync(view, key, view.LastSequence, cancellationToken);
        }
        catch
        {
            use.Dispose();
            throw;
        }

        if (found.IsCompleted)
        {
            use.Dispose();
            return found;
        }

        return ReleaseAfterAsync(found, use);

        static async ValueTask<RowEntry?> ReleaseAfterAsync(ValueTask<RowEntry?> found, ManifestUse.Use use)
        {
            using (use)
            {
                return await found.ConfigureAwait(false);
            }
        }
    }

    private (ReaderView View, ManifestUse.Use Use) Enter()
    {
        var view = Volatile.Read(ref _view);
        while (true)
        {
            var use = _inUse.Enter(view.ManifestId);
            var again = Volatile.Read(ref _view);
            if (again.ManifestId == view.ManifestId)
            {
                return (again, use);
            }

            use.Dispose();
            view = again;
        }
    }

    private void ThrowIfUnusable()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw Errors.ClosedClean($"the reader is closed (store={Location})");
        }

        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw new SlateSharpException(failure.Kind, $"the reader cannot follow the database: {failure.Message}", failure);
        }
    }

    private MemoryTable NewMemtable()
    {
        lock (_random)
        {
            return new MemoryTable((ulong)_random.NextInt64() | 1);
        }
    }

    private Guid NewLeaseId()
    {
        Span<byte> bytes = stackalloc byte[16];
        lock (_random)
        {
            _random.NextBytes(bytes);
        }

        return new Guid(bytes);
    }
}
