using System.Buffers;

namespace SlateSharp.Format;

/// <summary>
/// A growable <see cref="IBufferWriter{T}"/> over arrays rented from <see cref="ArrayPool{T}.Shared"/>. The owner
/// reuses it across blocks with <see cref="Clear"/> and must <see cref="Dispose"/> it to return the array.
/// <see cref="WrittenSpan"/> is valid only until the next write, clear or dispose.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private readonly int _growthLimit;
    private byte[] _buffer;

    /// <summary>
    /// A writer over a pooled array of at least <paramref name="initialCapacity"/> bytes. Growing doubles the array but
    /// not past <paramref name="growthLimit"/> unless a single write needs more, so an owner that stops writing at a
    /// known size (a WAL object) never holds an array twice that size.
    /// </summary>
    public PooledBufferWriter(int initialCapacity = 256, int growthLimit = int.MaxValue)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(16, initialCapacity));
        _growthLimit = growthLimit;
    }

    /// <summary>An empty writer over <paramref name="buffer"/>, an array another writer gave up (<see cref="DetachBuffer"/>), returned to the pool on dispose.</summary>
    public PooledBufferWriter(byte[] buffer, int growthLimit = int.MaxValue)
    {
        _buffer = buffer;
        _growthLimit = growthLimit;
    }

    /// <summary>Bytes written since the last clear.</summary>
    public int WrittenCount { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, WrittenCount);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, WrittenCount);

    public void Clear() => WrittenCount = 0;

    public void Advance(int count)
    {
        if (count < 0 || WrittenCount + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        WrittenCount += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(WrittenCount);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(WrittenCount);
    }

    /// <summary>Appends <paramref name="data"/>.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        WrittenCount += data.Length;
    }

    /// <summary>Takes the array out for another writer to reuse; this one is left empty, holding nothing.</summary>
    public byte[] DetachBuffer()
    {
        var buffer = _buffer;
        _buffer = [];
        WrittenCount = 0;
        return buffer;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        WrittenCount = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = (long)WrittenCount + Math.Max(1, sizeHint);
        if (needed <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(needed, Math.Min((long)_buffer.Length * 2, Math.Min(_growthLimit, Array.MaxLength)));
        if (size > Array.MaxLength)
        {
            throw Errors.Internal($"buffer would exceed the largest array (needed={needed})");
        }

        var bigger = ArrayPool<byte>.Shared.Rent((int)size);
        _buffer.AsSpan(0, WrittenCount).CopyTo(bigger);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = bigger;
    }
}
