namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A read-only, non-seekable stream of <see cref="Length"/> deterministic pseudo-random bytes that never holds more
/// than the caller's buffer: for uploading very large objects without building them in memory.
/// </summary>
public sealed class PatternStream : Stream
{
    private readonly ulong _seed;
    private long _position;

    public PatternStream(long length, ulong seed)
    {
        Length = length;
        _seed = seed;
    }

    public override long Length { get; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <summary>The byte at <paramref name="offset"/> of a pattern with <paramref name="seed"/>.</summary>
    public static byte ByteAt(long offset, ulong seed)
    {
        var x = (ulong)(offset / 8) * 0x9E3779B97F4A7C15UL ^ seed;
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 29;
        return (byte)(x >> (int)(offset % 8 * 8));
    }

    /// <summary>Fills <paramref name="destination"/> with the pattern starting at <paramref name="offset"/>.</summary>
    public static void Fill(Span<byte> destination, long offset, ulong seed)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = ByteAt(offset + i, seed);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, Length - _position);
        Fill(buffer[..n], _position, _seed);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
