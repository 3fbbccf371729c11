using System.Net;
using System.Runtime.CompilerServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using SlateSharp.Common;
using SlateSharp.Storage.Decorators;

namespace SlateSharp.Storage.S3;

/// <summary>
/// An object store in an S3 bucket (AWS or an S3-compatible server such as Ceph RGW or MinIO), through AWSSDK.S3.
/// Create-if-absent is one <c>PUT</c> with <c>If-None-Match: *</c>, replace-if-version-matches one <c>PUT</c> with
/// <c>If-Match</c> and the ETag as the version; large overwrites stream as multipart uploads with bounded memory.
/// The SDK's own retries are off: <see cref="RetryingObjectStore"/> retries whole calls, and this store retries single
/// parts of a multipart upload with the same <see cref="Retrier"/>.
/// </summary>
internal sealed partial class S3ObjectStore : IObjectStore, IReadIntoObjectStore, IDisposable
{
    private const string PutIdMetadata = "slatesharp-put-id";

    private readonly AmazonS3Client _client;
    private readonly BucketKeys _keys;
    private readonly S3StoreOptions _options;
    private readonly bool _readOnly;
    private readonly Retrier _retrier;
    private readonly string _endpoint;
    private readonly System.Collections.Concurrent.ConcurrentBag<byte[]> _partBuffers = [];

    private S3ObjectStore(AmazonS3Client client, BucketKeys keys, S3StoreOptions options, bool readOnly, Retrier retrier, string endpoint)
    {
        _client = client;
        _keys = keys;
        _options = options;
        _readOnly = readOnly;
        _retrier = retrier;
        _endpoint = endpoint;
    }

    public string Location => _keys.Location("s3");

    /// <summary>
    /// Opens <c>s3://<paramref name="bucket"/>/<paramref name="prefix"/></c>: checks that the bucket answers and, unless
    /// <paramref name="access"/> is <see cref="StoreAccess.ReadWrite"/>, that the server enforces conditional writes (see <see cref="S3StoreOptions.VerifyConditionalWrites"/>).
    /// </summary>
    public static async ValueTask<S3ObjectStore> OpenAsync(
        string bucket, string prefix, S3StoreOptions options, StoreAccess access, Retrier retrier, RandomSource random, ILogger logger, CancellationToken cancellationToken)
    {
        options.Validate();
        var readOnly = access == StoreAccess.ReadOnly;
        var (client, endpoint) = CreateClient(options);
        var store = new S3ObjectStore(client, new BucketKeys(bucket, prefix), options, readOnly, retrier, endpoint);
        try
        {
            if (access != StoreAccess.ReadWrite || !options.VerifyConditionalWrites)
            {
                await retrier.RunAsync("s3 bucket check", (_, ct) => store.CheckBucketAsync(ct), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await store.ProbeConditionalWritesAsync(random, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            store.Dispose();
            throw;
        }

        logger.LogInformation("s3 store {Location} opened (endpoint {Endpoint}, read-only {ReadOnly})", store.Location, endpoint, readOnly);
        return store;
    }

    public void Dispose() => _client.Dispose();

    public async ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        var key = _keys.Key(path);
        try
        {
            var response = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _keys.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return new ObjectMetadata(path, response.ContentLength, Version(response.ETag), Time(response.LastModified), response.Metadata[PutIdMetadata]);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (Map(e, "s3 head", key, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        ReadAsync(path, range, default, cancellationToken);

    /// <inheritdoc/>
    bool IReadIntoObjectStore.ReadsInPlace => true;

    /// <inheritdoc/>
    ValueTask<GetResult?> IReadIntoObjectStore.GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        ReadAsync(path, ByteRange.FromOffset(offset, destination.Length), destination, cancellationToken);

    /// <summary>One GET of <paramref name="range"/>, its body read into <paramref name="into"/> (or a new array when empty).</summary>
    private async ValueTask<GetResult?> ReadAsync(ObjectPath path, ByteRange range, Memory<byte> into, CancellationToken cancellationToken)
    {
        var key = _keys.Key(path);
        var header = HttpRanges.Header(range);
        if (header is null && !range.IsAll)
        {
            // An empty range: S3 has no way to ask for zero bytes, so learn the size and resolve it here.
            return await HttpRanges.ResolveWithoutBodyAsync(path, range, () => HeadAsync(path, cancellationToken)).ConfigureAwait(false);
        }

        try
        {
            var request = new GetObjectRequest { BucketName = _keys.Bucket, Key = key };
            if (header is not null)
            {
                request.ByteRange = new Amazon.S3.Model.ByteRange(header);
            }

            using var response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            var partial = response.HttpStatusCode == HttpStatusCode.PartialContent;
            var (start, size) = partial
                ? HttpRanges.ParseContentRange(response.ContentRange, "s3 get", key)
                : (0, response.ContentLength);
            var metadata = new ObjectMetadata(path, size, Version(response.ETag), Time(response.LastModified), response.Metadata[PutIdMetadata]);

            // A ranged get answered with the whole object (a server that ignores Range): skip to the range and read only it.
            var (skip, length) = header is not null && !partial ? range.Resolve(size, path) : (0, response.ContentLength);
            var data = HttpRanges.Destination(into, length, "s3 get", key);
            await HttpRanges.ReadBodyAsync(response.ResponseStream, skip, data, "s3 get", key, cancellationToken).ConfigureAwait(false);
            return new GetResult(metadata, partial ? start : skip, data);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // At or past the end (or any range of an empty object): the size decides between empty and invalid.
            return await HttpRanges.ResolveWithoutBodyAsync(path, range, () => HeadAsync(path, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception e) when (Map(e, "s3 get", key, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var listPrefix = _keys.ListPrefix(prefix);
        string? token = null;
        do
        {
            ListObjectsV2Response page;
            try
            {
                page = await _client.ListObjectsV2Async(
                    new ListObjectsV2Request { BucketName = _keys.Bucket, Prefix = listPrefix, MaxKeys = _options.ListPageSize, ContinuationToken = token },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Map(e, "s3 list", listPrefix, cancellationToken) is { } mapped)
            {
                throw mapped;
            }

            foreach (var item in page.S3Objects ?? [])
            {
                if (_keys.PathOf(item.Key) is { } path)
                {
                    yield return new ObjectMetadata(path, item.Size ?? 0, Version(item.ETag), Time(item.LastModified));
                }
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        var key = _keys.Key(path);
        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _keys.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            // Already gone.
        }
        catch (Exception e) when (Map(e, "s3 delete", key, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    private static (AmazonS3Client Client, string Endpoint) CreateClient(S3StoreOptions options)
    {
        var endpoint = options.Endpoint ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3") ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        var config = new AmazonS3Config
        {
            Timeout = options.RequestTimeout,
            ConnectTimeout = options.ConnectTimeout,
            MaxErrorRetry = 0,
            ForcePathStyle = options.ForcePathStyle ?? endpoint is not null,
        };
        try
        {
            if (endpoint is not null)
            {
                config.ServiceURL = endpoint;
                config.AuthenticationRegion = options.Region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";
                config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
                config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
            }
            else if (options.Region is not null)
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
            }

            var client = options.Credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(options.Credentials, config);
            return (client, endpoint ?? $"aws ({config.RegionEndpoint?.SystemName ?? "region from the environment"})");
        }
        catch (Exception e) when (e is AmazonClientException or ArgumentException or UriFormatException)
        {
            throw Errors.Invalid($"cannot configure the s3 client: {e.Message} (endpoint={endpoint ?? "aws"} region={options.Region})", e);
        }
    }

    private async ValueTask<bool> CheckBucketAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = _keys.Bucket, Prefix = _keys.KeyPrefix, MaxKeys = 1 }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (Map(e, "s3 bucket check", _keys.KeyPrefix, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    private void ThrowIfReadOnly(ObjectPath path)
    {
        if (_readOnly)
        {
            throw Errors.Invalid($"the store was opened read-only (location={Location} path={path})");
        }
    }

    private static ObjectVersion Version(string? etag) => new((etag ?? string.Empty).Trim('"'));

    private static DateTimeOffset Time(DateTime? time) =>
        time is { } t ? new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime()) : DateTimeOffset.UnixEpoch;

    /// <summary>
    /// Maps an SDK or network failure to the engine's error kinds: missing bucket and access problems are
    /// <see cref="ErrorKind.Invalid"/> (retrying will not help), 5xx, 429, timeouts and network failures are
    /// <see cref="ErrorKind.Unavailable"/>. Returns null for a cancellation the caller asked for.
    /// </summary>
    private SlateSharpException? Map(Exception error, string what, string key, CancellationToken cancellationToken)
    {
        var details = $"bucket={_keys.Bucket} key={key} endpoint={_endpoint}";
        if (error is SlateSharpException)
        {
            return null;
        }

        if (error is AmazonServiceException service && (int)service.StatusCode != 0)
        {
            var status = (int)service.StatusCode;
            var code = service.ErrorCode;
            var message = $"status={status} code={code}";
            if (code == "NoSuchBucket")
            {
                return Errors.Invalid($"{what}: bucket not found ({details})", error);
            }

            if (status is 401 or 403 || code is "AccessDenied" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" or "InvalidToken")
            {
                return Errors.Invalid($"{what}: access denied: {code} ({details} status={status})", error);
            }

            if (TransportErrors.IsTransientStatus(status) || code is "SlowDown" or "RequestTimeout" or "InternalError" or "ConditionalRequestConflict")
            {
                return Errors.Unavailable($"{what}: server error ({message} {details})", error);
            }

            return Errors.Invalid($"{what}: request rejected: {service.Message} ({message} {details})", error);
        }

        if (TransportErrors.Classify(error, what, details, _options.RequestTimeout, cancellationToken) is { } transport)
        {
            return transport;
        }

        if (error is AmazonClientException)
        {
            return Errors.Invalid($"{what}: {error.Message} ({details})", error);
        }

        return null;
    }
}
