using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Common;
using SlateSharp.Concurrency;
using SlateSharp.Manifest;
using SlateSharp.Memtable;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Telemetry;
using SlateSharp.Wal;

namespace SlateSharp;

/// <summary>
/// An embedded key-value database whose only durable storage is an object store. One writer at a time: opening a
/// database claims it and fences out the previous writer, whose next write or flush then fails with
/// <see cref="ErrorKind.Closed"/> / <see cref="CloseReason.Fenced"/>. Thread-safe. See docs/usage.md.
/// </summary>
public sealed partial class Db : IAsyncDisposable
{
    private readonly IObjectStore _store;
    private readonly IAsyncDisposable? _ownedStore;
    private readonly DbOptions _options;
    private readonly ILogger _logger;
    private readonly FenceableManifest _manifest;
    private readonly WalWriter _wal;
    private readonly MemtableFlusher _flusher;
    private readonly SstReaderCache _readers;
    private readonly BlockCache? _blockCache;

    /// <summary>The block cache, when there is one (tests).</summary>
    internal BlockCache? BlockCache => _blockCache;
    private readonly SstPins _pins = new();
    private readonly Random _random;
    private readonly Lock _writeLock = new();
    private readonly AsyncGate _memoryReleased = new();
    private readonly CancellationTokenSource _background = new();
    private readonly WalFence _fence;
    private readonly DbTelemetry _telemetry;
    private readonly IDisposable _observed;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DbView _view;

    // Full-size arena chunks of flushed memtables nothing reads any more, for the next memtables (one memtable's worth).
    private readonly MemtableChunkPool _memtableChunks;
    private ulong _lastSequence;
    private ulong _visibleSequence;
    private ulong _recoveredSequence;
    private long _unflushedBytes;
    private long _unstoredWalBytes; // the WAL's part of _unflushedBytes
    private readonly long _unstoredWalLimit;
    private bool _activeHasAppends;
    private ulong _activeFixedWalId;
    private SlateSharpException? _closed;
    private Task _walTask = Task.CompletedTask;
    private Task _flushTask = Task.CompletedTask;
    private Task _refreshTask = Task.CompletedTask;
    private Task _compactorTask = Task.CompletedTask;
    private Exception? _compactorFailure;
    private Compaction.Compactor? _compactor;
    private Task? _close;
    private Task? _stopped;
    private int _replayRangeObjects;

    /// <summary>Set (under the write lock) once background work is stopping: no memtable may freeze after it, since
    /// nobody would flush it.</summary>
    private bool _stopping;
    private long _writerStalls;

    private Db(IObjectStore store, IAsyncDisposable? ownedStore, DbOptions options, FenceableManifest manifest, WalFence fence)
    {
        _store = store;
        _ownedStore = ownedStore;
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Db>();
        _telemetry = new DbTelemetry(store.Location);
        _manifest = manifest;
        _fence = fence;
        _random = new Random(options.RandomSeed ?? System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue));
        _blockCache = options.BlockCacheBytes > 0 ? new BlockCache(options.BlockCacheBytes, reuseBuffers: true) : null;
        _readers = new SstReaderCache(store, _blockCache, options.SstReaderCacheBytes);
        _memtableChunks = new MemtableChunkPool(options.MaxUnflushedBytes, options.MemtableSizeBytes);
        _view = new DbView(NewMemtable(), [], manifest.Manifest, manifest.Id);
        _view.Hold(_pins);
        _activeFixedWalId = fence.Id;
        var walObjectMaxBytes = options.WalObjectMaxBytes ?? DbOptions.DefaultWalObjectMaxBytes(store);
        _unstoredWalLimit = options.UnstoredWalLimit(walObjectMaxBytes);
        _wal = new WalWriter(
            store,
            fence.Id + 1,
            manifest.Epoch,
            options.FlushInterval,
            options.MaxWalUploadsPerSecond,
            walObjectMaxBytes,
            options.TimeProvider,
            options.WriteRetryTimeout,
            () => manifest.IsFenced,
            manifest.MarkFenced,
            _logger,
            OnWalStored,
            _telemetry);
        var sstOptions = SstOptions(options);
        _flusher = new MemtableFlusher(
            store,
            manifest,
            sstOptions,
            new SstIdGenerator(SstIdRole.Writer, manifest.Epoch, options.TimeProvider, new Random(_random.Next())),
            _pins,
            new FlushTarget(this),
            options.L0MaxSsts,
            TimeSpan.FromSeconds(1),
            options.WriteRetryTimeout,
            options.TimeProvider,
            _logger,
            _telemetry,
            options.MergeOperator);
        _observed = ObservedDatabases.Add(new Gauges(this));
    }

    /// <summary>Where the database lives, e.g. <c>file:///data/db</c>.</summary>
    public string Location => _store.Location;

    /// <summary>What opening replayed from the WAL and anything it skipped (see <see cref="DbOptions.SkipCorruptWalTail"/>).</summary>
    public RecoveryReport Recovery { get; private set; } = null!;

    /// <summary>
    /// Completes when this database has stopped for good: successfully after a clean <see cref="CloseAsync"/>, and
    /// faulted with the <see cref="SlateSharpException"/> that stopped it (<see cref="CloseReason.Fenced"/> when a
    /// newer writer took over, <see cref="CloseReason.Failed"/> when storage failed) the moment that happens, without
    /// the application making a failing call. Await it in a watcher, or check it in a health probe.
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>This writer's epoch: higher than every writer before it.</summary>
    public ulong WriterEpoch => _manifest.Epoch;

    internal FenceableManifest Manifest => _manifest;

    internal IObjectStore Store => _store;

    internal WalWriter Wal => _wal;

    internal MemtableFlusher Flusher => _flusher;

    internal SstReaderCache Readers => _readers;

    /// <summary>SSTs this process still needs (in-flight reads, unpublished outputs): in-process GC never deletes them.</summary>
    internal SstPins Pins => _pins;

    internal long UnflushedBytes => Interlocked.Read(ref _unflushedBytes);

    internal long UnstoredWalBytes => Interlocked.Read(ref _unstoredWalBytes);

    internal long WriterStalls => Interlocked.Read(ref _writerStalls);

    /// <summary>The highest sequence number that is durable (in a stored WAL object or an SST).</summary>
    internal ulong DurableSequence => Math.Max(_wal.DurableSequence, Math.Max(_recoveredSequence, _view.Manifest.LastL0Sequence));

    /// <summary>
    /// Opens the database at <paramref name="url"/> (<c>file:///dir</c>, <c>memory://name</c>, <c>s3://bucket/prefix</c>,
    /// <c>gs://bucket/prefix</c>) as its writer: claims it, fences the previous writer, and replays the WAL it left.
    /// </summary>
    public static async ValueTask<Db> OpenAsync(string url, DbOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DbOptions();
        options.Validate();
        var storeOptions = ObjectStoreOptions.For(options.ObjectStore, options.TimeProvider, options.LoggerFactory);
        var store = await ObjectStores.OpenAsync(url, storeOptions, cancellationToken).ConfigureAwait(false);
        return await OpenCoreAsync(store, store, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens the database under <paramref name="path"/> ("" for the store's root) of <paramref name="store"/>.</summary>
    public static async ValueTask<Db> OpenAsync(IObjectStore store, string path, DbOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new DbOptions();
        options.Validate();
        var scoped = string.IsNullOrEmpty(path) ? store : new PrefixedObjectStore(store, path);
        return await OpenCoreAsync(scoped, null, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Flushes everything to L0, stops background work and releases the store. Returning normally means every write
    /// acknowledged before the call is durable. Throws if the database was fenced or failed. Concurrent and later calls
    /// (and <see cref="DisposeAsync"/>) wait for the first close and report its outcome. Cancelling the first close
    /// stops it where it is: background work ends without flushing the memtables (writes acknowledged as durable stay
    /// durable; writes acknowledged only from the memtable may be lost), the call throws
    /// <see cref="OperationCanceledException"/> and later calls report the close as failed. Cancelling a later call
    /// only stops its waiting.
    /// </summary>
    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        Task close;
        bool first;
        lock (_writeLock)
        {
            first = _close is null;
            _close ??= CloseOnceAsync(cancellationToken);
            close = _close;
        }

        if (first)
        {
            await close.ConfigureAwait(false);
            return;
        }

        try
        {
            await close.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The first close was cancelled by its own caller: report what that left behind.
            throw Rethrowable(_closed ?? Errors.ClosedFailed($"the close was cancelled (store={Location})"));
        }
    }

    /// <summary>Closes the database; a fenced or failed database is released without throwing.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync().ConfigureAwait(false);
        }
        catch (SlateSharpException e) when (e.Kind == ErrorKind.Closed)
        {
        }
    }

    /// <summary>Test hook: stops background work at once without flushing anything, as a crash would.</summary>
    internal async Task SimulateCrashAsync()
    {
        lock (_writeLock)
        {
            _closed ??= Errors.ClosedFailed($"the database crashed (simulated) (store={Location})");
        }

        await StopBackgroundAsync().ConfigureAwait(false);
    }

    /// <summary>The one close: every caller of <see cref="CloseAsync"/> awaits this task.</summary>
    private async Task CloseOnceAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        SlateSharpException? previous;
        lock (_writeLock)
        {
            previous = _closed;
            _closed ??= Errors.ClosedClean($"the database is closed (store={Location})");
        }

        if (previous is not null)
        {
            await StopBackgroundAsync().ConfigureAwait(false);
            if (previous.CloseReason != CloseReason.Clean)
            {
                throw Rethrowable(previous);
            }

            return;
        }

        try
        {
            CrashPoints.Reached(CrashPoints.CloseBegin);
            await FlushMemtablesAsync(cancellationToken).ConfigureAwait(false);
            CrashPoints.Reached(CrashPoints.CloseFlushed);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_writeLock)
            {
                _closed = Errors.ClosedFailed($"the close was cancelled before the memtables were flushed; writes acknowledged only from the memtable may be lost (store={Location})");
            }

            throw;
        }
        catch (SlateSharpException e) when (e.Kind != ErrorKind.Closed)
        {
            lock (_writeLock)
            {
                _closed = Errors.ClosedFailed(
                    $"the close could not flush the memtables: {e.Message}; writes acknowledged as durable are safe, writes acknowledged only from the memtable may be lost (store={Location})", e);
            }
        }
        finally
        {
            await StopBackgroundAsync().ConfigureAwait(false);
        }

        if (_closed is { CloseReason: not CloseReason.Clean } failure)
        {
            throw Rethrowable(failure);
        }

        _logger.LogInformation("closed {Location} (writer epoch {Epoch})", Location, WriterEpoch);
    }

    private static async ValueTask<Db> OpenCoreAsync(IObjectStore store, IAsyncDisposable? ownedStore, DbOptions options, CancellationToken cancellationToken)
    {
        using var activity = new DbTelemetry(store.Location).StartActivity(ActivityNames.Open);
        try
        {
            // Requests are counted for GetStats (a store opened from a URL already counts them); the disk cache sits
            // above the count, so the GETs it saves show.
            if (ObjectStores.MetricsOf(store) is null)
            {
                store = new InstrumentedObjectStore(store, new ObjectStoreMetrics(), options.TimeProvider);
            }

            (store, ownedStore) = SstDiskCache.Wrap(store, ownedStore, options.DiskCache, options.LoggerFactory);
            var manifestStore = new ManifestStore(store);
            var manifest = await FenceableManifest.InitWriterAsync(
                manifestStore, new ManifestOptions(options.ManifestUpdateTimeout, options.TimeProvider), cancellationToken).ConfigureAwait(false);
            var fence = await WalRecovery.FenceAsync(store, manifest, new SettleBudget(options.WriteRetryTimeout, options.TimeProvider), cancellationToken)
                .ConfigureAwait(false);
            var db = new Db(store, ownedStore, options, manifest, fence);
            db.StartBackground();
            try
            {
                db.Recovery = await db.ReplayAsync(cancellationToken).ConfigureAwait(false);
                await db.SettleReplayedWalAsync(cancellationToken).ConfigureAwait(false);
                await db.StartCompactorAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await db.SimulateCrashAsync().ConfigureAwait(false);
                throw;
            }

            db._logger.LogInformation(
                "opened {Location} as writer epoch {Epoch} (wal fence {Fence}, sequence {Sequence})", store.Location, manifest.Epoch, fence.Id, db._lastSequence);
            activity?.SetTag("slatesharp.writer_epoch", manifest.Epoch);
            activity?.SetTag("slatesharp.wal_replayed", db.Recovery.WalObjectsReplayed);
            return db;
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
    }

    private void StartBackground()
    {
        _walTask = SuperviseAsync(_wal.RunAsync, "wal writer");
        _flushTask = SuperviseAsync(_flusher.RunAsync, "memtable flusher");
        _refreshTask = SuperviseAsync(RefreshManifestAsync, "manifest refresh");
        _gcTask = StartGarbageCollection();
    }

    private async Task SuperviseAsync(Func<CancellationToken, Task> run, string name)
    {
        await Task.Yield();
        DbTelemetry.DetachFromCaller();
        try
        {
            await run(_background.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_background.IsCancellationRequested)
        {
        }
        catch (SlateSharpException e) when (e.IsFenced)
        {
            Stop(e, name);
        }
        catch (Exception e)
        {
            Stop(Errors.ClosedFailed($"the {name} failed: {e.Message} (store={Location})", e), name);
        }
    }

    /// <summary>Closes the database because of a background failure: fenced or failed, never to write again.</summary>
    private void Stop(SlateSharpException reason, string source)
    {
        lock (_writeLock)
        {
            if (_closed is null || _closed.CloseReason == CloseReason.Clean)
            {
                _closed = reason;
            }

            _stopping = true;
        }

        _manifest.MarkFenced(reason);
        Complete(reason);
        if (reason.IsFenced)
        {
            _logger.LogWarning("{Source}: {Message}; this instance stops writing", source, reason.Message);
        }
        else
        {
            _logger.LogError(reason, "{Source} stopped the database", source);
        }

        _background.Cancel();
        _wal.Fail(reason);
        foreach (var immutable in _view.Immutables)
        {
            immutable.Flushed.TrySetException(reason);
        }

        _memoryReleased.PulseAll();
    }

    /// <summary>Stops background work and releases resources, once; later calls await the first.</summary>
    private Task StopBackgroundAsync()
    {
        lock (_writeLock)
        {
            return _stopped ??= StopBackgroundOnceAsync();
        }
    }

    private async Task StopBackgroundOnceAsync()
    {
        await Task.Yield();
        lock (_writeLock)
        {
            _stopping = true;
        }

        await _background.CancelAsync().ConfigureAwait(false);
        _memoryReleased.PulseAll();
        await Task.WhenAll(_walTask, _flushTask, _refreshTask, _compactorTask, _gcTask).ConfigureAwait(false);
        _wal.Fail(_closed ?? Errors.ClosedClean("the database is closed"));
        foreach (var immutable in _view.Immutables)
        {
            immutable.Flushed.TrySetException(_closed ?? Errors.ClosedClean("the database is closed"));
        }

        _wal.Dispose();
        _manifest.Dispose();
        _compactor?.Manifest.Dispose();
        lock (_writeLock)
        {
            // Nothing installs a view after this: the last one lets its SSTs and memtables go once reads on it end.
            _view.Retire();
        }

        // Their chunks are freed as they come back (at once, unless a read is still on the last view).
        _memtableChunks.Close();

        _observed.Dispose();
        if (_ownedStore is not null)
        {
            await _ownedStore.DisposeAsync().ConfigureAwait(false);
        }

        Complete(Volatile.Read(ref _closed));
    }

    /// <summary>Resolves <see cref="Completion"/> once: a clean close succeeds it, anything else faults it.</summary>
    private void Complete(SlateSharpException? reason)
    {
        if (reason is null || reason.CloseReason == CloseReason.Clean)
        {
            _completion.TrySetResult();
            return;
        }

        if (_completion.TrySetException(Rethrowable(reason)))
        {
            // Observed here, so an application that never looks at Completion raises no UnobservedTaskException.
            _ = _completion.Task.Exception;
        }
    }

    internal void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closed) is { } closed)
        {
            throw Rethrowable(closed);
        }
    }

    private static SlateSharpException Rethrowable(SlateSharpException closed) =>
        new(closed.CloseReason ?? CloseReason.Failed, closed.Message, closed.InnerException);

    private MemoryTable NewMemtable() => new((ulong)_random.NextInt64() | 1, _memtableChunks);

    /// <summary>
    /// Publishes <paramref name="next"/> as the read view (readers take it without the lock) and retires the one it
    /// replaces: the new view holds its memtables before the old lets go of them, so a memtable still listed never
    /// loses its memory, and one that left the view gives its chunks back once the last read on an older view ends.
    /// The pool keeps the whole unflushed budget's chunks while frozen memtables wait (writers will fill them again) and,
    /// once none does, what the active memtable can still take before it is full (<see cref="MemtableChunkPool"/>), so the
    /// chunks alive are those of the memtables alive and no more; it is set before the old view lets go, so the chunks
    /// that gives back meet the new limit. The caller holds the write lock.
    /// </summary>
    private void InstallViewLocked(DbView next)
    {
        next.Hold(_pins);
        var previous = _view;
        Volatile.Write(ref _view, next);
        _memtableChunks.LimitBytes = next.Immutables.IsEmpty
            ? _options.MemtableSizeBytes - next.Active.ReservedBytes
            : _options.MaxUnflushedBytes;
        previous.Retire();
    }

    private void OnWalStored(WalSegment segment)
    {
        Interlocked.Add(ref _unflushedBytes, -segment.BatchBytes);
        Interlocked.Add(ref _unstoredWalBytes, -segment.BatchBytes);
        _memoryReleased.PulseAll();
    }

    /// <summary>The gauges the <see cref="SlateSharpDiagnostics.Name"/> meter's observable instruments read.</summary>
    private sealed class Gauges(Db db) : IObservedDatabase
    {
        public string Location => db._telemetry.Location;

        public long L0Ssts => Volatile.Read(ref db._view).Manifest.L0.Count;

        public long SortedRuns => Volatile.Read(ref db._view).Manifest.SortedRuns.Count;

        public long FrozenMemtables => Volatile.Read(ref db._view).Immutables.Count;

        public long UnflushedBytes => db.UnflushedBytes;

        public long BlockCacheHits => db._blockCache?.Hits ?? 0;

        public long BlockCacheMisses => db._blockCache?.Misses ?? 0;
    }

    /// <summary>The flusher's window into the database.</summary>
    private sealed class FlushTarget(Db db) : IFlushTarget
    {
        public ulong NextWalId => db._wal.NextId;

        public Exception? CompactionStopped => Volatile.Read(ref db._compactorFailure);

        public ImmutableMemtable? OldestImmutable()
        {
            var immutables = Volatile.Read(ref db._view).Immutables;
            return immutables.IsEmpty ? null : immutables[^1];
        }

        public void OnFlushed(ImmutableMemtable flushed, DbManifest stored)
        {
            // The writer's manifest now holds the flush (stored, or a later version that includes it).
            var current = db._manifest.Current;
            lock (db._writeLock)
            {
                // One swap: a reader (which takes the view without the lock) finds the rows in the frozen memtable or
                // in the manifest that holds its SST, never in neither.
                db.AdvanceViewLocked(current, flushed);
            }

            Interlocked.Add(ref db._unflushedBytes, -flushed.Table.SizeBytes);
            flushed.Flushed.TrySetResult();
            db._memoryReleased.PulseAll();
            db._compactor?.Signal();
        }
    }
}
