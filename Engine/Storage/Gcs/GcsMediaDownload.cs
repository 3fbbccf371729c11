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

    private readonly MemoryStream _body = new();

    public GcsMediaDownload(IClientService service) : base(service) => ChunkSize = CopyBufferSize;

    public HttpStatusCode Status { get; private set; }

    public long? ContentLength { get; private set; }

    public string? ContentRange { get; private set; }

    public string? Generation { get; private set; }

    public DateTimeOffset? LastModified { get; private set; }

    public string? PutId { get; private set; }

    /// <summary>The bytes received, without a copy.</summary>
    public ReadOnlyMemory<byte> Body => _body.GetBuffer().AsMemory(0, (int)_body.Length);

    /// <summary>Downloads into <see cref="Body"/>; the progress carries the failure when there is one.</summary>
    public Task<IDownloadProgress> DownloadAsync(string url, CancellationToken cancellationToken) => DownloadAsync(url, _body, cancellationToken);

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

            _body.Capacity = (int)length;
        }
    }

    public void Dispose() => _body.Dispose();

    private static string? First(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values) ? values.FirstOrDefault() : null;
}
