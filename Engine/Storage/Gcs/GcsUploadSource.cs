using System.Runtime.ExceptionServices;

namespace SlateSharp.Storage.Gcs;

/// <summary>
/// What a resumable upload reads its bytes from: the caller's stream from its current position, forward only (the
/// library then sends chunks of unknown total size and learns the size at the end, and a resumed upload resends from
/// its own chunk buffer). It tells the store three things the library does not: whether the upload has read anything
/// yet (the library reads only after the session is started, so a failure before that is a failure to start), whether
/// a failure was the caller's stream failing rather than the network, and when the upload is waiting for the caller's
/// bytes (which the request timeout must not count: a compaction may produce a chunk slowly).
/// </summary>
internal sealed class GcsUploadSource(Stream inner, Action readStarted, Action readEnded) : Stream
{
    private ExceptionDispatchInfo? _failure;

    /// <summary>True once the library has asked for bytes: the upload session exists.</summary>
    public bool Started { get; private set; }

    /// <summary>The exception the caller's stream threw, if it did.</summary>
    public ExceptionDispatchInfo? Failure => _failure;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Started = true;
        readStarted();
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _failure ??= ExceptionDispatchInfo.Capture(e);
            throw;
        }
        finally
        {
            readEnded();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("uploads read asynchronously");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
