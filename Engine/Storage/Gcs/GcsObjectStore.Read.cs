using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.ExceptionServices;
using Google;
using Google.Apis.Download;

namespace SlateSharp.Storage.Gcs;

/// <summary>Ranged reads: one media GET each (<see cref="GcsMediaDownload"/>).</summary>
internal sealed partial class GcsObjectStore
{
    public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default)
    {
        var key = _keys.Key(path);
        var header = RangeHeader(range);
        if (header is null && !range.IsAll)
        {
            // An empty range: HTTP cannot ask for zero bytes, so learn the size and resolve it here.
            return await HttpRanges.ResolveWithoutBodyAsync(path, range, () => HeadAsync(path, cancellationToken)).ConfigureAwait(false);
        }

        var (found, result) = await CallAsync("gcs get", key, async ct =>
        {
            using var download = new GcsMediaDownload(_storage.Service) { Range = header };
            var progress = await download.DownloadAsync(MediaUrl(key), ct).ConfigureAwait(false);
            if (progress.Status != DownloadStatus.Completed)
            {
                switch (progress.Exception)
                {
                    case GoogleApiException { HttpStatusCode: HttpStatusCode.NotFound }:
                        return (Found: false, Result: (GetResult?)null);
                    case GoogleApiException { HttpStatusCode: HttpStatusCode.RequestedRangeNotSatisfiable }:
                        return (Found: true, Result: null);
                    case { } error:
                        ExceptionDispatchInfo.Throw(error);
                        break;
                }

                throw Errors.Unavailable($"gcs get: the download stopped in state {progress.Status} ({Details(key)})");
            }

            return (Found: true, Result: ToResult(path, key, range, header is not null, download));
        }, cancellationToken).ConfigureAwait(false);

        return found && result is null
            ? await HttpRanges.ResolveWithoutBodyAsync(path, range, () => HeadAsync(path, cancellationToken)).ConfigureAwait(false) // 416: at or past the end
            : result;
    }

    /// <summary>The media URL of an object, as the library builds it for its own downloads.</summary>
    private string MediaUrl(string key) =>
        $"{_storage.Service.BaseUri.TrimEnd('/')}/b/{Uri.EscapeDataString(_keys.Bucket)}/o/{Uri.EscapeDataString(key)}";

    private GetResult ToResult(ObjectPath path, string key, ByteRange range, bool ranged, GcsMediaDownload download)
    {
        if (!long.TryParse(download.Generation, NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
        {
            throw Errors.Data(key, $"gcs answered a get without a valid x-goog-generation header ('{download.Generation}')");
        }

        var body = download.Body;
        if (download.ContentLength is { } length && body.Length != length)
        {
            throw Errors.Unavailable($"gcs get: the response ended after {body.Length} of {length} bytes ({Details(key)})");
        }

        var partial = download.Status == HttpStatusCode.PartialContent;
        var (start, size) = partial ? HttpRanges.ParseContentRange(download.ContentRange, "gcs get", key) : (0, body.Length);
        var metadata = new ObjectMetadata(path, size, Version(generation), download.LastModified ?? DateTimeOffset.UnixEpoch, download.PutId);
        if (ranged && !partial)
        {
            // The server ignored the Range header (the firebase emulator does past the end): cut the range here.
            var (s, n) = range.Resolve(size, path);
            return new GetResult(metadata, s, body.Slice((int)s, (int)n));
        }

        return new GetResult(metadata, start, body);
    }

    /// <summary>The Range header for <paramref name="range"/>, or null for the whole object and for empty ranges.</summary>
    private static RangeHeaderValue? RangeHeader(ByteRange range) =>
        range.IsAll ? null
        : range.IsSuffix ? (range.Length == 0 ? null : new RangeHeaderValue(null, range.Length))
        : range.Length < 0 ? new RangeHeaderValue(range.Offset, null)
        : range.Length == 0 ? null
        : new RangeHeaderValue(range.Offset, range.Offset + range.Length - 1);
}
