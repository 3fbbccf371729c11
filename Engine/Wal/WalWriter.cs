using Microsoft.Extensions.Logging;
using SlateSharp.Common;
using SlateSharp.Concurrency;
using SlateSharp.Format;
using SlateSharp.Storage;
using SlateSharp.Telemetry;

namespace SlateSharp.Wal;

/// <summary>
/// The single owner of WAL ids. Writers append batches to the open <see cref="WalSegment"/>; this task seals it every
/// flush interval (or when it is full, or when asked) and uploads sealed segments in order, each as
/// <c>wal/{id}.sst</c> with create-if-absent at the next id. Nobody else ever allocates a WAL id, so a create-if-absent
/// that finds its id taken can only mean another writer fenced this one. Group commit: everything appended since the
/// last upload goes in one object. Objects are created strictly one after another, in id order, but the next one is
/// prepared (<see cref="StagedPuts"/>: on a local disk, its temporary file written and fsynced) while the one before it
/// is being created, so two fsyncs of a local WAL object cost about one in a busy writer's cycle.
/// </summary>
internal sealed class WalWriter : IDisposable
{
    private readonly IObjectStore _store;
    private readonly SettleBudget _budget;
    private readonly Func<bool> _isFenced;
    private readonly Action<SlateSharpException> _markFenced;
    private readonly ulong _writerEpoch;
    private readonly TimeSpan _interval;
    private readonly long _maxSegmentBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<WalSegment> _onDurable;
    private readonly DbTelemetry _telemetry;
    private readonly AsyncSignal _wake = new();
    private readonly UploadPacer _pacer;
    private readonly bool _stagesAhead;
    private const int MaxGatherYields = 8;
    private readonly Lock _lock = new();
    private readonly Queue<WalSegment> _sealed = new();
    private readonly List<WalSegment> _uploading = [];
    private WalSegment? _storing;
    private int _lastWaiters; // durable writers the last stored object released: about how many come straight back
    private WalSegment _open;
    private long _openSince; // when the open segment got its first batch (TimeProvider timestamp); guarded by _lock

    // The buffer of the last stored segment, for the next one: it has grown to an object's size already, where a
    // fresh one would grow to it again by doubling (copying and renting arrays of 4 MiB and more each time).
    private byte[]? _spareBuffer;
    private long _lastSealedBytes; // guarded by _lock
    private WalSegment? _lastSealed;
    private Exception? _failure;
    private ulong _nextId;
    private ulong _durableSequence;
    private long _objectsWritten;
    private long _bytesWritten;

    public WalWriter(
        IObjectStore store,
        ulong firstId,
        ulong writerEpoch,
        TimeSpan interval,
        int? maxUploadsPerSecond,
        long maxSegmentBytes,
        TimeProvider time,
        TimeSpan retryTimeout,
        Func<bool> isFenced,
        Action<SlateSharpException> markFenced,
        ILogger logger,
        Action<WalSegment> onDurable,
        DbTelemetry? telemetry = null)
    {
        _telemetry = telemetry ?? DbTelemetry.Detached;
        _store = store;
        _isFenced = isFenced;
        _markFenced = markFenced;
        _writerEpoch = writerEpoch;
        _budget = new SettleBudget(retryTimeout, time);
        _nextId = firstId;
        _interval = interval;
        _pacer = new UploadPacer(maxUploadsPerSecond, time);
        _stagesAhead = StagedPuts.PreparesAhead(store);
        _maxSegmentBytes = maxSegmentBytes;
        _time = time;
        _logger = logger;
        _onDurable = onDurable;
        _open = NewSegment();
    }

    /// <summary>The id the next WAL object will get.</summary>
    public ulong NextId => Interlocked.Read(ref _nextId);

    /// <summary>The highest sequence number stored in a WAL object by this writer.</summary>
    public ulong DurableSequence => Interlocked.Read(ref _durableSequence);

    /// <summary>WAL objects stored by this writer.</summary>
    public long ObjectsWritten => Interlocked.Read(ref _objectsWritten);

    /// <summary>Bytes of the WAL objects stored by this writer.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>
    /// Appends one batch; returns the segment whose <see cref="WalSegment.Durable"/> tells when it is stored. A caller
    /// that will wait for durability says so (<paramref name="durableWaiter"/>): the upload loop then starts at once
    /// when idle, or right after the upload in flight, instead of at the end of the flush interval.
    /// </summary>
    public WalSegment Append(ReadOnlySpan<RowEntry> rows, ulong sequence, bool durableWaiter, out long appendedBytes)
    {
        lock (_lock)
        {
            if (_failure is { } failure)
            {
                throw StoppedError(failure);
            }

            // A batch that would take the open object past its largest size starts the next one (a batch larger than
            // that alone still gets an object of its own), so no object, and no buffer, outgrows WalObjectMaxBytes.
            var length = WalObjectWriter.EncodedLength(rows);
            var segment = _open;
            if (!segment.IsEmpty && segment.Bytes + length + WalObjectCodec.TrailerLength > _maxSegmentBytes)
            {
                SealLocked();
                _wake.Set();
                segment = _open;
            }

            if (segment.IsEmpty)
            {
                _openSince = _time.GetTimestamp();
            }

            appendedBytes = segment.Append(rows, sequence, length);
            if (segment.Bytes + WalObjectCodec.TrailerLength >= _maxSegmentBytes)
            {
                SealLocked();
                _wake.Set();
            }
            else if (durableWaiter)
            {
                segment.DurableWaiters++;
                _wake.Set();
            }

            return segment;
        }
    }

    /// <summary>
    /// Seals the open segment so it is uploaded next (a memtable froze, or a flush was asked for) and returns the
    /// segment that holds the last appended batch: its <see cref="WalSegment.Durable"/> completes when everything
    /// appended so far is stored. Null when nothing was ever appended.
    /// </summary>
    public WalSegment? Seal()
    {
        lock (_lock)
        {
            if (!_open.IsEmpty)
            {
                SealLocked();
            }

            _wake.Set();
            return _lastSealed;
        }
    }

    /// <summary>
    /// Seals the open segment only when nothing is waiting to be stored or being stored: a writer out of memory wants
    /// the bytes of the open segment on their way, and with an upload idle sealing starts one at once. With uploads
    /// queued, sealing would release nothing sooner (objects are stored in order) and only cut the open object short:
    /// under backpressure that made every stalled writer seal a part-filled object, twice the objects (each a put, and
    /// locally an fsync) and each in a buffer twice its size.
    /// </summary>
    public void SealIfIdle()
    {
        lock (_lock)
        {
            if (_open.IsEmpty || _sealed.Count > 0 || _uploading.Count > 0)
            {
                return;
            }

            SealLocked();
            _wake.Set();
        }
    }

    /// <summary>Asks for an upload now and completes when everything appended so far is stored.</summary>
    public Task FlushAsync() => Seal()?.Durable.Task ?? Task.CompletedTask;

    /// <summary>
    /// The upload loop; runs until cancelled, or throws (fenced, storage failure) after failing every waiter. On a store
    /// that prepares puts ahead it seals and stages the next segment while the one before it is still being created, and
    /// creates it once that one is stored; on any other store one create is in flight at a time.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Task? storing = null; // the previous segment's create, in flight while the next one is staged
        try
        {
            while (true)
            {
                // Group commit: a durable writer's append wakes this at once; appends made while an upload is in
                // flight leave the signal set, so they go together in the next object as soon as it returns.
                await _wake.WaitAsync(UntilOpenSegmentIsDue(), _time, cancellationToken).ConfigureAwait(false);

                // A store that prepares nothing ahead gains nothing from sealing early: the writes go on gathering
                // until the create in flight returns, so there are fewer objects (and, on S3, fewer PUTs to pay for).
                if (storing is { IsCompleted: true } || (storing is not null && !_stagesAhead))
                {
                    await storing.ConfigureAwait(false); // throws what stopped it
                    storing = null;
                }

                await _pacer.WaitTurnAsync(cancellationToken).ConfigureAwait(false);
                await GatherReturningWritersAsync().ConfigureAwait(false);

                lock (_lock)
                {
                    if (OpenSegmentIsDueLocked())
                    {
                        SealLocked();
                    }

                    _uploading.AddRange(_sealed);
                    _sealed.Clear();
                }

                while (NextToStage() is { } segment)
                {
                    var started = _time.GetTimestamp();
                    // The id is a guess (the create in flight may step over an old fence): staging needs only its directory.
                    var likelyId = NextId + (storing is null ? 0UL : 1UL);
                    var staged = await StagedPuts.StageAsync(_store, WalPaths.PathOf(likelyId), segment.Finish(), cancellationToken).ConfigureAwait(false);
                    try
                    {
                        if (storing is not null)
                        {
                            await storing.ConfigureAwait(false);
                            storing = null;
                        }

                        ThrowIfFailed();
                    }
                    catch
                    {
                        await staged.DisposeAsync().ConfigureAwait(false);
                        throw;
                    }

                    lock (_lock)
                    {
                        _storing = segment;
                    }

                    storing = StoreAsync(segment, staged, started, cancellationToken);
                }
            }
        }
        catch (Exception e)
        {
            Stop(e);
            throw;
        }
        finally
        {
            if (storing is not null)
            {
                try
                {
                    await storing.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Already recorded by Stop: every waiter of that segment has been failed.
                }
            }
        }
    }

    /// <summary>Fails every segment not yet stored, and every later append.</summary>
    public void Fail(Exception reason)
    {
        List<WalSegment> pending;
        lock (_lock)
        {
            _failure ??= reason;
            pending = [.. _uploading, .. _sealed, _open];
            _uploading.Clear();
            _sealed.Clear();
        }

        foreach (var segment in pending)
        {
            segment.Durable.TrySetException(reason);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var segment in _sealed)
            {
                segment.Dispose();
            }

            _open.Dispose();
            if (_spareBuffer is { } spare)
            {
                _spareBuffer = null;
                System.Buffers.ArrayPool<byte>.Shared.Return(spare);
            }
        }
    }

    /// <summary>
    /// Stores the segment at the next id, settling ambiguous answers by reading the object back (a lost answer, a
    /// retried create that finds itself, a false "exists"): the segment counts as stored only when our bytes are there.
    /// When the outcome stays unknown the error stops the database and no waiter is told the write is durable. Runs
    /// beside the loop, which meanwhile stages the next segment; a failure stops the writer here and wakes the loop.
    /// </summary>
    private async Task StoreAsync(WalSegment segment, IStagedPut staged, long started, CancellationToken cancellationToken)
    {
        try
        {
            var id = _nextId;
            var content = staged.Content;
            using var activity = _telemetry.StartActivity(ActivityNames.WalUpload);
            activity?.SetTag("slatesharp.wal.bytes", content.Length);
            activity?.SetTag("slatesharp.sequence.last", segment.LastSequence);
            try
            {
                id = await CreateAtAsync(id, WalPaths.PathOf(id), staged, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                activity.Fail(e);
                throw;
            }

            activity?.SetTag("slatesharp.wal.id", id);
            Interlocked.Exchange(ref _nextId, id + 1);
            Interlocked.Exchange(ref _durableSequence, Math.Max(_durableSequence, segment.LastSequence));
            Interlocked.Increment(ref _objectsWritten);
            Interlocked.Add(ref _bytesWritten, content.Length);
            _telemetry.WalUploaded(content.Length, _time.GetElapsedTime(started));
            _logger.LogDebug("stored wal object {Id} ({Bytes} bytes, up to sequence {Sequence})", id, segment.Bytes, segment.LastSequence);
            lock (_lock)
            {
                // Fail (the database stopping, from another task) may have emptied the list meanwhile.
                if (_uploading.Count > 0 && ReferenceEquals(_uploading[0], segment))
                {
                    _uploading.RemoveAt(0);
                }

                _storing = null;
                _lastWaiters = segment.DurableWaiters;
            }

            lock (_lock)
            {
                // Stored: its bytes are not read again. Set aside before anyone is told, so the next segment gets it.
                _spareBuffer ??= segment.DetachBuffer();
            }

            _onDurable(segment);
            segment.Durable.TrySetResult(id);
            segment.Dispose();
        }
        catch (Exception e)
        {
            Stop(e);
            _wake.Set();
            throw;
        }
        finally
        {
            await staged.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Creates the staged bytes at <paramref name="path"/>, or above it past older writers' fences; returns the id it was stored at.</summary>
    private async ValueTask<ulong> CreateAtAsync(ulong id, ObjectPath path, IStagedPut staged, CancellationToken cancellationToken)
    {
        while (true)
        {
            CrashPoints.Reached(CrashPoints.WalPutBefore);
            var result = await SettledCreate.CreateAsync(_store, path, staged, _budget, cancellationToken, () => ThrowIfFenced(id, path)).ConfigureAwait(false);
            CrashPoints.Reached(CrashPoints.WalPutAfter);
            if (result.Created)
            {
                break;
            }

            // A fence left by an older writer that opened after us and then learned it was fenced holds no writes:
            // step over it. Anything else at an id this writer allocated means a newer writer has fenced it.
            if (WalRecovery.TryDecode(result.Existing, path, zeroByteIsFence: false) is { IsFence: true, WriterEpoch: { } epoch } && epoch < _writerEpoch)
            {
                _logger.LogInformation("wal id {Id} holds a fence of older writer epoch {Epoch}; stepping over it", id, epoch);
                id++;
                path = WalPaths.PathOf(id);
                Interlocked.Exchange(ref _nextId, id);
                continue;
            }

            throw TakenError(id, path, result.Existing);
        }

        return id;
    }

    /// <summary>Checked right before every put: once the manifest holder knows a newer writer exists, nothing more is sent.</summary>
    private void ThrowIfFenced(ulong id, ObjectPath path)
    {
        if (_isFenced())
        {
            throw Errors.Fenced($"fenced: a newer writer claimed the database; wal id {id} is not written (path={path} store={_store.Location})");
        }
    }

    /// <summary>Only this task allocates ids above the fence, so another object at one means a newer writer fenced us.</summary>
    private SlateSharpException TakenError(ulong id, ObjectPath path, ReadOnlyMemory<byte> existing) =>
        Errors.Fenced(
            $"fenced: another writer took wal id {id} that this writer allocated (epoch={_writerEpoch} object_epoch={WalRecovery.EpochOf(existing, path, zeroByteIsFence: true)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"} path={path} store={_store.Location})");

    /// <summary>
    /// Durable writers released by the last object usually write again at once, but their continuations queue on the
    /// thread pool behind the one that woke this loop: sealing the moment the first is back splits them over two
    /// objects. So the loop yields a few times (no clock, so it cannot stall a test's manual time) while fewer of them
    /// are back than there were. A lone sequential writer (one waiter) never waits. On 64 closed-loop writers this
    /// took writes per object from about 31 to 42 (docs/benchmarks.md): fewer objects, fewer PUTs on S3.
    /// </summary>
    private async ValueTask GatherReturningWritersAsync()
    {
        for (var round = 0; round < MaxGatherYields; round++)
        {
            lock (_lock)
            {
                if (_lastWaiters <= 1 || _open.DurableWaiters >= _lastWaiters || _open.Bytes >= _maxSegmentBytes)
                {
                    return;
                }
            }

            await Task.Yield();
        }
    }

    /// <summary>The first handed-over segment not yet being stored (the one being stored is always the first).</summary>
    private WalSegment? NextToStage()
    {
        lock (_lock)
        {
            var next = _storing is not null && _uploading.Count > 0 && ReferenceEquals(_uploading[0], _storing) ? 1 : 0;
            return _uploading.Count > next ? _uploading[next] : null;
        }
    }

    /// <summary>Records why the writer stopped (the manifest holder first, when fenced) and fails every waiter; idempotent.</summary>
    private void Stop(Exception e)
    {
        if (e is SlateSharpException { IsFenced: true } fenced)
        {
            // The manifest holder learns first, so no flush writes a manifest after any caller has been told.
            _markFenced(fenced);
        }

        Fail(e is OperationCanceledException ? Errors.ClosedFailed("the database stopped before this write was stored", e) : e);
    }

    private void ThrowIfFailed()
    {
        lock (_lock)
        {
            if (_failure is { } failure)
            {
                throw StoppedError(failure);
            }
        }
    }

    /// <summary>
    /// What a caller is told once the writer has stopped. Fenced stays fenced: the database learns it a moment later,
    /// but a write that races that moment must not be told "failed" instead.
    /// </summary>
    private static SlateSharpException StoppedError(Exception failure) =>
        failure is SlateSharpException { IsFenced: true } fenced
            ? Errors.Fenced(fenced.Message)
            : Errors.ClosedFailed("the wal writer has stopped", failure);

    /// <summary>
    /// Whether the upload loop seals the open segment now: when a durable writer waits on it, when its first batch has
    /// waited the flush interval, or when nothing else is sealed (the loop woke for it). Woken by a segment that filled
    /// up, it leaves the open one to go on filling, so memtable-acknowledged writes go out in full objects.
    /// </summary>
    private bool OpenSegmentIsDueLocked() =>
        !_open.IsEmpty && (_sealed.Count == 0 || _open.DurableWaiters > 0 || _time.GetElapsedTime(_openSince) >= _interval);

    /// <summary>How long the loop may sleep: the flush interval, less what the open segment's first batch has waited.</summary>
    private TimeSpan UntilOpenSegmentIsDue()
    {
        lock (_lock)
        {
            if (_open.IsEmpty)
            {
                return _interval;
            }

            var left = _interval - _time.GetElapsedTime(_openSince);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    private void SealLocked()
    {
        _lastSealedBytes = _open.Bytes;
        _sealed.Enqueue(_open);
        _lastSealed = _open;
        _open = NewSegment();
    }

    private WalSegment NewSegment()
    {
        if (_spareBuffer is { } spare)
        {
            _spareBuffer = null;
            return new WalSegment(spare, (int)_maxSegmentBytes, _writerEpoch);
        }

        // Sized for what the object before it held: a steady stream of writes fills objects of much the same size, and
        // a buffer that starts small and doubles rents (and the pool keeps) every size on the way. Sized by bytes, not
        // by the last buffer, so a run of small objects (sealed while an upload is retried) holds small buffers.
        var capacity = Math.Max(64 << 10, _lastSealedBytes);
        return new WalSegment((int)Math.Min(_maxSegmentBytes, capacity), (int)_maxSegmentBytes, _writerEpoch);
    }
}
