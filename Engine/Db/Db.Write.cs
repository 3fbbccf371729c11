using SlateSharp.Format;
using SlateSharp.Memtable;
using SlateSharp.Telemetry;
using SlateSharp.Wal;

namespace SlateSharp;

/// <summary>The write path: sequence numbers, the WAL buffer, the memtable and backpressure.</summary>
public sealed partial class Db
{
    /// <summary>Scratch arrays larger than this are dropped after their batch rather than kept.</summary>
    private const int MaxKeptBatchRows = 4096;

    // A batch's rows and their sort order, reused under the write lock (ReleaseBatchRows clears what a batch left).
    private RowEntry[] _batchRows = [];
    private int[] _batchOrder = [];

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/>. Key and value are copied before the call returns, so
    /// the caller may reuse its buffers at once, even while the returned task still waits.
    /// </summary>
    public ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        WriteBatch.ValidateKey(key.Span);
        if (value.Length > RowEntry.MaxValueLength)
        {
            throw Errors.Invalid($"value too large: at most {RowEntry.MaxValueLength} bytes (length={value.Length})");
        }

        // Read in place: the WAL encoder and the memtable's arena copy key and value under the write lock (a put that
        // has to wait for memory copies them first).
        var expireAt = options?.ExpiryFor(_options.TimeProvider.GetUtcNow());
        return WriteCoreAsync(RowEntry.Put(key, value, 0, expireAt), null, options, cancellationToken);
    }

    /// <summary>Removes <paramref name="key"/> (a tombstone hides every older value).</summary>
    public ValueTask DeleteAsync(ReadOnlyMemory<byte> key, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        WriteBatch.ValidateKey(key.Span);
        return WriteCoreAsync(RowEntry.Delete(key, 0), null, options, cancellationToken);
    }

    /// <summary>
    /// Deletes every key in [<paramref name="startInclusive"/>, <paramref name="endExclusive"/>) (unsigned bytewise
    /// order) as one write: reads, scans and snapshots taken after it see none of those keys; writes after it are
    /// visible again. Costs one row whatever the range holds; compaction drops the hidden rows
    /// (docs/design/range-deletes.md). <paramref name="options"/> as for a put (durability); a TTL does not apply.
    /// An empty range (equal bounds) writes nothing; a start after the end is an <see cref="ErrorKind.Invalid"/> error.
    /// </summary>
    public ValueTask DeleteRangeAsync(
        ReadOnlyMemory<byte> startInclusive, ReadOnlyMemory<byte> endExclusive, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        WriteBatch.ValidateKey(startInclusive.Span);
        WriteBatch.ValidateKey(endExclusive.Span);
        var order = startInclusive.Span.SequenceCompareTo(endExclusive.Span);
        if (order > 0)
        {
            throw Errors.Invalid(
                $"range delete start sorts after its end (start={Convert.ToHexString(startInclusive.Span)} end={Convert.ToHexString(endExclusive.Span)})");
        }

        if (order == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfClosed();
            return ValueTask.CompletedTask;
        }

        return WriteCoreAsync(RowEntry.RangeDelete(startInclusive, endExclusive, 0), null, options, cancellationToken);
    }

    /// <summary>
    /// Merges <paramref name="operand"/> into the value of <paramref name="key"/> with <see cref="DbOptions.MergeOperator"/>:
    /// reads see the operator's full merge of every operand since the last put or delete onto that value (or onto none).
    /// The operand is stored as it is and merged when read, flushed or compacted. Without an operator this is
    /// <see cref="ErrorKind.Invalid"/>, and so is a <see cref="WriteOptions.Ttl"/> or <see cref="WriteOptions.ExpireAt"/>:
    /// an operand never expires (put the value with a TTL instead; merges onto it see it until it expires, and nothing after).
    /// </summary>
    public ValueTask MergeAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> operand, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        WriteBatch.ValidateKey(key.Span);
        if (operand.Length > RowEntry.MaxValueLength)
        {
            throw Errors.Invalid($"merge operand too large: at most {RowEntry.MaxValueLength} bytes (length={operand.Length})");
        }

        RequireMergeable(options);
        return WriteCoreAsync(new RowEntry(key, operand, 0, RowKind.Merge), null, options, cancellationToken);
    }

    /// <summary>Applies every operation of <paramref name="batch"/> atomically: all visible together, all durable together.</summary>
    public ValueTask WriteAsync(WriteBatch batch, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfClosed();
            return ValueTask.CompletedTask;
        }

        if (batch.Merges > 0)
        {
            RequireMergeable(options);
            batch = batch.CombineMerges(_options.MergeOperator!);
        }

        return WriteCoreAsync(default, batch, options, cancellationToken);
    }

    /// <summary>A merge needs an operator and takes no expiry.</summary>
    private void RequireMergeable(WriteOptions? options)
    {
        if (_options.MergeOperator is null)
        {
            throw Errors.Invalid($"merge needs a merge operator: set DbOptions.MergeOperator (location={Location})");
        }

        if (options is { Ttl: not null } or { ExpireAt: not null })
        {
            throw Errors.Invalid("a merge takes no Ttl or ExpireAt: operands never expire (put the value with an expiry instead)");
        }
    }

    /// <summary>
    /// Applies one write: the single row <paramref name="single"/> (its sequence is assigned here) or, when given, the
    /// rows of <paramref name="batch"/>. Cancellation: a call whose token is cancelled before its rows are appended
    /// applies nothing; once they are in the WAL buffer and the memtable the write stands (readable now, durable with
    /// the next WAL object) and cancellation only stops the wait for durability. Completes synchronously, without
    /// allocating, when neither memory nor durability has to be waited for.
    /// </summary>
    private ValueTask WriteCoreAsync(RowEntry single, WriteBatch? batch, WriteOptions? options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfClosed();
        var awaitDurable = (options ?? WriteOptions.Default).AwaitDurable;
        var started = awaitDurable && DbTelemetry.TimesDurableWrites ? _options.TimeProvider.GetTimestamp() : 0;
        if (MustWaitForMemory)
        {
            // The caller may reuse its buffers once this returns: a single row that waits is copied first.
            return WriteAfterMemoryAsync(batch is null ? CopyOf(single) : single, batch, options, started, cancellationToken);
        }

        var segment = Apply(single, batch, options, cancellationToken);
        return awaitDurable ? WaitDurableAsync(segment, started, cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>The row with its key and value copied into one array of its own.</summary>
    private static RowEntry CopyOf(RowEntry row)
    {
        var data = new byte[row.Key.Length + row.Value.Length];
        row.Key.Span.CopyTo(data);
        row.Value.Span.CopyTo(data.AsSpan(row.Key.Length));
        return new RowEntry(data.AsMemory(0, row.Key.Length), data.AsMemory(row.Key.Length), row.Sequence, row.Kind, row.ExpireAt);
    }

    private async ValueTask WriteAfterMemoryAsync(RowEntry single, WriteBatch? batch, WriteOptions? options, long started, CancellationToken cancellationToken)
    {
        var awaitDurable = (options ?? WriteOptions.Default).AwaitDurable;
        await WaitForMemoryAsync(cancellationToken).ConfigureAwait(false);
        var segment = Apply(single, batch, options, cancellationToken);
        if (awaitDurable)
        {
            await WaitDurableAsync(segment, started, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Assigns the sequence number and appends the rows to the WAL buffer and the active memtable.</summary>
    private WalSegment Apply(RowEntry single, WriteBatch? batch, WriteOptions? options, CancellationToken cancellationToken)
    {
        var awaitDurable = (options ?? WriteOptions.Default).AwaitDurable;
        var expireAt = batch is null ? null : options?.ExpiryFor(_options.TimeProvider.GetUtcNow());
        var segment = ApplyLocked(single, batch, awaitDurable, expireAt, cancellationToken);
        if (batch is null)
        {
            var bytes = single.Key.Length + single.Value.Length;
            switch (single.Kind)
            {
                case RowKind.Delete or RowKind.RangeDelete: _telemetry.Delete(bytes); break;
                case RowKind.Merge: _telemetry.Merge(bytes); break;
                default: _telemetry.Put(bytes); break;
            }
        }
        else
        {
            _telemetry.Batch(batch.Puts, batch.Count - batch.Puts - batch.Merges, batch.Merges, batch.Bytes);
        }

        return segment;
    }

    private WalSegment ApplyLocked(RowEntry single, WriteBatch? batch, bool awaitDurable, long? expireAt, CancellationToken cancellationToken)
    {
        lock (_writeLock)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfClosed();
            var sequence = _lastSequence + 1;
            if (batch is null)
            {
                var one = new RowEntry(single.Key, single.Value, sequence, single.Kind, single.ExpireAt);
                return AppendLocked(new ReadOnlySpan<RowEntry>(in one), sequence, awaitDurable);
            }

            var count = batch.ToRows(sequence, expireAt, ref _batchRows, ref _batchOrder);
            try
            {
                return AppendLocked(_batchRows.AsSpan(0, count), sequence, awaitDurable);
            }
            finally
            {
                ReleaseBatchRows(count);
            }
        }
    }

    /// <summary>Appends rows of one sequence number to the WAL buffer and the active memtable. Caller holds the write lock.</summary>
    private WalSegment AppendLocked(ReadOnlySpan<RowEntry> rows, ulong sequence, bool awaitDurable)
    {
        var segment = _wal.Append(rows, sequence, awaitDurable, out var charged);
        Interlocked.Add(ref _unstoredWalBytes, charged);
        var active = _view.Active;
        foreach (var row in rows)
        {
            charged += active.Insert(row.Key, sequence, row.Kind, row.Value, row.ExpireAt);
        }

        _lastSequence = sequence;
        _activeHasAppends = true;
        Interlocked.Add(ref _unflushedBytes, charged);
        if (active.SizeBytes >= _options.MemtableSizeBytes)
        {
            FreezeLocked();
        }

        Volatile.Write(ref _visibleSequence, sequence);
        return segment;
    }

    /// <summary>
    /// Lets go of the batch just applied (its rows alias the caller's arrays) and of scratch arrays a very large batch
    /// grew. Caller holds the write lock.
    /// </summary>
    private void ReleaseBatchRows(int used)
    {
        if (_batchRows.Length > MaxKeptBatchRows)
        {
            _batchRows = [];
            _batchOrder = [];
        }
        else
        {
            Array.Clear(_batchRows, 0, used);
        }
    }

    private async ValueTask WaitDurableAsync(WalSegment segment, long started, CancellationToken cancellationToken)
    {
        try
        {
            await segment.Durable.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (started != 0)
            {
                _telemetry.DurableWrite(_options.TimeProvider.GetElapsedTime(started));
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw StoppedError(e);
        }
    }

    /// <summary>
    /// Whether a write must wait: unflushed bytes are at <see cref="DbOptions.MaxUnflushedBytes"/>, or the WAL's
    /// unstored bytes at their part of it (<see cref="DbOptions.MaxUnstoredWalBytes"/>).
    /// </summary>
    private bool MustWaitForMemory =>
        Interlocked.Read(ref _unflushedBytes) >= _options.MaxUnflushedBytes || Interlocked.Read(ref _unstoredWalBytes) >= _unstoredWalLimit;

    /// <summary>
    /// Backpressure: while unflushed bytes (or the WAL's unstored ones) are at their limit, wait for the WAL writer or
    /// the flusher to release some. If only the active memtable holds memory, freeze it so the flusher has work; if the
    /// WAL holds it, seal the open object unless one is already on its way.
    /// </summary>
    private async ValueTask WaitForMemoryAsync(CancellationToken cancellationToken)
    {
        long? stalledAt = null;
        try
        {
            while (MustWaitForMemory)
            {
                var released = _memoryReleased.NextPulse;
                if (Interlocked.Read(ref _unflushedBytes) >= _options.MaxUnflushedBytes)
                {
                    lock (_writeLock)
                    {
                        if (_view.Immutables.IsEmpty && !_view.Active.IsEmpty)
                        {
                            FreezeLocked();
                        }
                    }
                }

                _wal.SealIfIdle();
                ThrowIfClosed();
                if (!MustWaitForMemory)
                {
                    break;
                }

                if (stalledAt is null)
                {
                    stalledAt = _options.TimeProvider.GetTimestamp();
                    Interlocked.Increment(ref _writerStalls);
                }

                await released.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (stalledAt is { } at)
            {
                _telemetry.WriterStalled(_options.TimeProvider.GetElapsedTime(at));
            }
        }
    }

    /// <summary>Moves the active memtable to the frozen list and starts a new one. Caller holds the write lock.</summary>
    private void FreezeLocked()
    {
        var view = _view;
        if (view.Active.IsEmpty)
        {
            return;
        }

        var lastSegment = _activeHasAppends ? _wal.Seal() : null;
        var frozen = new ImmutableMemtable(view.Active, lastSegment, _activeFixedWalId);
        InstallViewLocked(view with { Active = NewMemtable(), Immutables = view.Immutables.Insert(0, frozen) });
        _activeHasAppends = false;
        _flusher.Signal();
    }
}
