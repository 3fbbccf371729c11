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
    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        ReadAsync(path, range, default, cancellationToken);

    /// <inheritdoc/>
    bool IReadIntoObjectStore.ReadsInPlace => true;

    /// <inheritdoc/>
    ValueTask<GetResult?> IReadIntoObjectStore.GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        ReadAsync(path, ByteRange.FromOffset(offset, destination.Length), destination, cancellationToken);

    /// <summary>One media GET of <paramref name="range"/>, its body written into <paramref name="into"/> (or a new array when empty).</summary>
    private async ValueTask<GetResult?> ReadAsync(ObjectPath path, ByteRange range, Memory<byte> into, CancellationToken cancellationToken)
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
            using var download = into.IsEmpty
                ? new GcsMediaDownload(_storage.Service) { Range = header }
                : new GcsMediaDownload(_storage.Service, into, range.Offset) { Range = header };
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

            return (Found: true, Result: ToResult(path, key, range, header is not null, download, !into.IsEmpty));
        }, cancellationToken).ConfigureAwait(false);

        return found && result is null
            ? await HttpRanges.ResolveWithoutBodyAsync(path, range, () => HeadAsync(path, cancellationToken)).ConfigureAwait(false) // 416: at or past the end
            : result;
    }

    /// <summary>The media URL of an object, as the library builds it for its own downloads.</summary>
    private string MediaUrl(string key) =>
        $"{_storage.Service.BaseUri.TrimEnd('/')}/b/{Uri.EscapeDataString(_keys.Bucket)}/o/{Uri.EscapeDataString(key)}";

    private GetResult ToResult(ObjectPath path, string key, ByteRange range, bool ranged, GcsMediaDownload download, bool intoBuffer)
    {
        if (!long.TryParse(download.Generation, NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
        {
            throw Errors.Data(key, $"gcs answered a get without a valid x-goog-generation header ('{download.Generation}')");
        }

        if (download.ContentLength is { } length && download.Received != length)
        {
            throw Errors.Unavailable($"gcs get: the response ended after {download.Received} of {length} bytes ({Details(key)})");
        }

        var body = download.Body;
        var partial = download.Status == HttpStatusCode.PartialContent;
        var (start, size) = partial ? HttpRanges.ParseContentRange(download.ContentRange, "gcs get", key) : (0, download.Received);
        var metadata = new ObjectMetadata(path, size, Version(generation), download.LastModified ?? DateTimeOffset.UnixEpoch, download.PutId);
        if (ranged && !partial)
        {
            // The server ignored the Range header (the firebase emulator does past the end): cut the range here. Into a
            // caller's buffer only the bytes from the range's start were kept.
            var (s, n) = range.Resolve(size, path);
            return new GetResult(metadata, s, intoBuffer ? body[..(int)n] : body.Slice((int)s, (int)n));
        }

        if (download.Overflow > 0)
        {
            throw Errors.Data(key, $"gcs get: the server answered with {download.Received} bytes, more than the {body.Length} asked for");
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
