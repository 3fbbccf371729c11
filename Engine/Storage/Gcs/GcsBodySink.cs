namespace SlateSharp.Storage.Gcs;

/// <summary>
/// Where a media download writes its body when the caller gave a buffer: the bytes after <see cref="Skip"/> fill the
/// buffer, and what does not fit is counted, not kept. <see cref="Skip"/> is set when the server ignored the Range
/// header and sends the whole object, so only the range lands in the buffer.
/// </summary>
internal sealed class GcsBodySink(Memory<byte> destination) : Stream
{
    /// <summary>Bytes to drop before the buffer starts to fill.</summary>
    public long Skip { get; set; }

    /// <summary>Every byte received, dropped or kept.</summary>
    public long Received { get; private set; }

    /// <summary>Bytes received after <see cref="Skip"/> that did not fit in the buffer.</summary>
    public long Overflow { get; private set; }

    /// <summary>The bytes kept, at the start of the buffer.</summary>
    public Memory<byte> Written => destination[..(int)_written];

    private long _written;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Received;

    public override long Position
    {
        get => Received;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var before = Received;
        Received += buffer.Length;
        var dropped = (int)Math.Clamp(Skip - before, 0, buffer.Length);
        var kept = buffer[dropped..];
        var fits = (int)Math.Min(kept.Length, destination.Length - _written);
        kept[..fits].CopyTo(destination.Span[(int)_written..]);
        _written += fits;
        Overflow += kept.Length - fits;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
