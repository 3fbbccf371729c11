using System.Net;
using Google.Apis.Download;
using Google.Apis.Services;

namespace SlateSharp.Storage.Gcs;

/// <summary>
/// One media GET (<c>alt=media</c>) through the library's <see cref="MediaDownloader"/> and the storage client's
/// authorized HTTP client, recording the response headers a <see cref="GetResult"/> needs: the generation, the
/// object's size (<c>Content-Range</c> or <c>Content-Length</c>), the time it was stored and the put id.
/// <c>StorageClient.DownloadObjectAsync</c> reports only the generation, so a read through it would need a metadata
/// request first; this keeps a read to one request. Not thread-safe: one instance per read.
/// </summary>
internal sealed class GcsMediaDownload : MediaDownloader, IDisposable
{
    /// <summary>The downloader's copy buffer: below the large-object heap threshold, reused for the whole body.</summary>
    private const int CopyBufferSize = 64 << 10;

    private readonly MemoryStream? _body;
    private readonly GcsBodySink? _sink;
    private readonly long _rangeOffset;

    /// <summary>A download into an array of its own (<see cref="Body"/>).</summary>
    public GcsMediaDownload(IClientService service) : base(service)
    {
        ChunkSize = CopyBufferSize;
        _body = new MemoryStream();
    }

    /// <summary>
    /// A download into <paramref name="destination"/>, of the range from <paramref name="rangeOffset"/>: when the
    /// server ignores the Range header and sends the whole object, the bytes before the range are dropped.
    /// </summary>
    public GcsMediaDownload(IClientService service, Memory<byte> destination, long rangeOffset) : base(service)
    {
        ChunkSize = CopyBufferSize;
        _sink = new GcsBodySink(destination);
        _rangeOffset = rangeOffset;
    }

    public HttpStatusCode Status { get; private set; }

    public long? ContentLength { get; private set; }

    public string? ContentRange { get; private set; }

    public string? Generation { get; private set; }

    public DateTimeOffset? LastModified { get; private set; }

    public string? PutId { get; private set; }

    /// <summary>
    /// The bytes kept, without a copy: the whole body, or (into a caller's buffer) the body from the range's start when
    /// the server ignored the Range header, up to the buffer's length.
    /// </summary>
    public ReadOnlyMemory<byte> Body => _sink is { } sink ? sink.Written : _body!.GetBuffer().AsMemory(0, (int)_body.Length);

    /// <summary>How many bytes the response carried, kept or not.</summary>
    public long Received => _sink?.Received ?? _body!.Length;

    /// <summary>Bytes of the body past the caller's buffer (a server answering a larger range than asked for).</summary>
    public long Overflow => _sink?.Overflow ?? 0;

    /// <summary>Downloads into <see cref="Body"/>; the progress carries the failure when there is one.</summary>
    public Task<IDownloadProgress> DownloadAsync(string url, CancellationToken cancellationToken) =>
        DownloadAsync(url, _sink ?? (Stream)_body!, cancellationToken);

    protected override void OnResponseReceived(HttpResponseMessage response)
    {
        base.OnResponseReceived(response);
        Status = response.StatusCode;
        ContentLength = response.Content.Headers.ContentLength;
        ContentRange = response.Content.Headers.ContentRange?.ToString();
        Generation = First(response, "x-goog-generation");
        LastModified = response.Content.Headers.LastModified;
        PutId = First(response, "x-goog-meta-" + GcsObjectStore.PutIdKey);
        if (ContentLength is { } length)
        {
            if (length > Array.MaxLength)
            {
                throw Errors.Invalid($"a single read is limited to {Array.MaxLength} bytes; read in ranges (url={response.RequestMessage?.RequestUri} length={length})");
            }

            if (_body is not null)
            {
                _body.Capacity = (int)length;
            }
        }

        if (_sink is not null && Range is not null && Status != HttpStatusCode.PartialContent)
        {
            // The whole object despite the Range header: only the range goes into the caller's buffer.
            _sink.Skip = _rangeOffset;
        }
    }

    public void Dispose()
    {
        _body?.Dispose();
        _sink?.Dispose();
    }

    private static string? First(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values) ? values.FirstOrDefault() : null;
}
