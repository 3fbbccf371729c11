using System.Buffers;
using System.Runtime.CompilerServices;
using SlateSharp.Read;

namespace SlateSharp;

/// <summary>
/// One consistent point in time of a <see cref="Db"/> (<see cref="Db.GetSnapshotAsync"/>): its gets and scans see
/// exactly the writes made before it was taken, however many are made, flushed or compacted after. It holds what it
/// reads — the memtables and the manifest of that moment, whose SSTs in-process garbage collection keeps — until it
/// is disposed: dispose it when done, as a long-lived snapshot keeps old memtables in memory. Thread-safe. Reads
/// fail with <see cref="ErrorKind.Closed"/> once the database is closed or the snapshot disposed.
/// </summary>
public sealed class DbSnapshot : IAsyncDisposable
{
    private readonly Db _db;
    private readonly ReadPath _reads;
    private readonly IReadView _view;
    private int _disposed;

    internal DbSnapshot(Db db, ReadPath reads, IReadView view, ulong sequence)
    {
        _db = db;
        _reads = reads;
        _view = view;
        Sequence = sequence;
    }

    /// <summary>The sequence number of the newest write this snapshot sees.</summary>
    public ulong Sequence { get; }

    /// <summary>The value of <paramref name="key"/> as of this snapshot, or null when it was absent or deleted.</summary>
    public ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        WriteBatch.ValidateKey(key.Span);
        ThrowIfUnusable();
        return _reads.GetAsync(View, key, Sequence, cancellationToken);
    }

    /// <summary>Writes the value of <paramref name="key"/> as of this snapshot to <paramref name="destination"/>; false when absent.</summary>
    public ValueTask<bool> GetAsync(ReadOnlyMemory<byte> key, IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        WriteBatch.ValidateKey(key.Span);
        ThrowIfUnusable();
        return _reads.GetAsync(View, key, destination, Sequence, cancellationToken);
    }

    /// <summary>The values of <paramref name="keys"/> as of this snapshot, in the keys' order (null when absent), as <see cref="Db.GetManyAsync"/>.</summary>
    public ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> keys, CancellationToken cancellationToken = default)
    {
        Db.ValidateKeys(keys);
        ThrowIfUnusable();
        return _reads.GetManyAsync(View, keys, Sequence, cancellationToken);
    }

    /// <summary>
    /// The keys of <paramref name="range"/> as of this snapshot, ascending or descending (<see cref="ScanOptions.Reverse"/>).
    /// <see cref="ScanOptions.DurableOnly"/> is an <see cref="ErrorKind.Invalid"/> error: the snapshot's point is fixed
    /// and may include writes not yet durable, so honouring it is impossible and ignoring it would mislead.
    /// </summary>
    public IAsyncEnumerable<KeyValue> ScanAsync(KeyRange range, ScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ScanOptions.Default;
        if (options.DurableOnly)
        {
            throw Errors.Invalid($"a snapshot scan cannot be DurableOnly: the snapshot's point (sequence {Sequence}) is fixed (store={_db.Location})");
        }

        return ScanCoreAsync(range, options, cancellationToken);
    }

    /// <summary>Every key starting with <paramref name="prefix"/> as of this snapshot (<see cref="KeyRange.Prefix"/>).</summary>
    public IAsyncEnumerable<KeyValue> ScanPrefixAsync(ReadOnlyMemory<byte> prefix, ScanOptions? options = null, CancellationToken cancellationToken = default) =>
        ScanAsync(KeyRange.Prefix(prefix), options, cancellationToken);

    /// <summary>Releases what the snapshot holds; reads after it fail with <see cref="ErrorKind.Closed"/>.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _db.ReleaseSnapshot(_view);
        }

        return ValueTask.CompletedTask;
    }

    private async IAsyncEnumerable<KeyValue> ScanCoreAsync(KeyRange range, ScanOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        await foreach (var row in _reads.ScanAsync(View, range, options, Sequence, cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    private IReadView View() => _view;

    private void ThrowIfUnusable()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw Errors.ClosedClean($"the snapshot at sequence {Sequence} was disposed (store={_db.Location})");
        }

        _db.ThrowIfClosed();
    }
}
