using SlateSharp.Format;

namespace SlateSharp.Wal;

/// <summary>
/// The write batches that will become one WAL object. Open while writers append to it; sealed when it is full,
/// when the flush interval ends, on an explicit flush, or when the memtable it feeds freezes (so a WAL object never
/// holds rows of two memtables). <see cref="Durable"/> completes with the object's id once it is stored.
/// </summary>
internal sealed class WalSegment : IDisposable
{
    private readonly PooledBufferWriter _buffer;
    private readonly WalObjectWriter _writer;

    /// <summary>
    /// Starts an object that records <paramref name="writerEpoch"/>, the epoch of the writer storing it, in a buffer of
    /// <paramref name="initialCapacity"/> bytes that grows to <paramref name="maxBytes"/> (the largest object) and past
    /// it only for a batch that alone is larger.
    /// </summary>
    public WalSegment(int initialCapacity, int maxBytes, ulong writerEpoch)
        : this(new PooledBufferWriter(initialCapacity, maxBytes), writerEpoch)
    {
    }

    /// <summary>Starts an object in <paramref name="buffer"/>, the buffer of a stored segment (<see cref="DetachBuffer"/>).</summary>
    public WalSegment(byte[] buffer, int maxBytes, ulong writerEpoch)
        : this(new PooledBufferWriter(buffer, maxBytes), writerEpoch)
    {
    }

    private WalSegment(PooledBufferWriter buffer, ulong writerEpoch)
    {
        _buffer = buffer;
        _writer = new WalObjectWriter(_buffer, writerEpoch);
    }

    public TaskCompletionSource<ulong> Durable { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsEmpty => _writer.BatchCount == 0;

    public long Bytes => _buffer.WrittenCount;

    /// <summary>Appended batches whose writers wait for this object to be stored.</summary>
    public int DurableWaiters { get; set; }

    /// <summary>The highest sequence number appended.</summary>
    public ulong LastSequence { get; private set; }

    /// <summary>Bytes the appended batches take: what the database charges against its memory budget.</summary>
    public long BatchBytes { get; private set; }

    /// <summary>Appends one batch of <paramref name="encodedLength"/> bytes (<see cref="WalObjectWriter.EncodedLength"/>); returns the bytes it took.</summary>
    public long Append(ReadOnlySpan<RowEntry> rows, ulong sequence, int encodedLength)
    {
        var before = _buffer.WrittenCount;
        _writer.AppendBatch(rows, encodedLength);
        LastSequence = sequence;
        var appended = _buffer.WrittenCount - before;
        BatchBytes += appended;
        return appended;
    }

    /// <summary>Finishes the encoding (trailer) and returns the object's bytes; the segment must be sealed.</summary>
    public ReadOnlyMemory<byte> Finish()
    {
        _writer.Finish();
        return _buffer.WrittenMemory;
    }

    /// <summary>Takes the buffer out for the next segment once this one is stored; the segment is then empty.</summary>
    public byte[] DetachBuffer() => _buffer.DetachBuffer();

    public void Dispose() => _buffer.Dispose();
}
