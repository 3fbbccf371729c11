using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Google;
using Google.Cloud.Storage.V1;
using Microsoft.Extensions.Logging;
using SlateSharp.Common;
using SlateSharp.Storage.Decorators;
using GcsObject = Google.Apis.Storage.v1.Data.Object;
using GcsRetry = Google.Cloud.Storage.V1.RetryOptions;

namespace SlateSharp.Storage.Gcs;

/// <summary>
/// An object store in a Google Cloud Storage bucket through Google.Cloud.Storage.V1 (the JSON API). Create-if-absent
/// is an upload with <c>IfGenerationMatch = 0</c>, replace-if-version-matches one with <c>IfGenerationMatch</c> set to
/// the expected generation; the generation is the version. Every put is a resumable upload in
/// <see cref="GcsStoreOptions.UploadChunkSize"/> chunks. The library retries nothing (see <see cref="GcsClient"/>):
/// <see cref="RetryingObjectStore"/> retries whole calls, and an upload from a stream it cannot replay is resumed here
/// from what the server persisted, with the same <see cref="Retrier"/>.
/// </summary>
internal sealed partial class GcsObjectStore : IObjectStore, IReadIntoObjectStore, IDisposable
{
    /// <summary>The custom metadata key that holds <see cref="PutOptions.PutId"/>.</summary>
    internal const string PutIdKey = "slatesharp-put-id";

    private readonly GcsClient _client;
    private readonly StorageClient _storage;
    private readonly BucketKeys _keys;
    private readonly GcsStoreOptions _options;
    private readonly bool _readOnly;
    private readonly Retrier _retrier;

    private GcsObjectStore(GcsClient client, BucketKeys keys, GcsStoreOptions options, bool readOnly, Retrier retrier)
    {
        _client = client;
        _storage = client.Storage;
        _keys = keys;
        _options = options;
        _readOnly = readOnly;
        _retrier = retrier;
    }

    public string Location => _keys.Location("gs");

    /// <summary>
    /// Opens <c>gs://<paramref name="bucket"/>/<paramref name="prefix"/></c>: builds the client (endpoint and
    /// credentials), checks that the bucket answers and, when <paramref name="access"/> is <see cref="StoreAccess.ReadWrite"/>,
    /// that the server enforces generation preconditions.
    /// </summary>
    public static async ValueTask<GcsObjectStore> OpenAsync(
        string bucket, string prefix, GcsStoreOptions options, StoreAccess access, Retrier retrier, RandomSource random, ILogger logger, CancellationToken cancellationToken)
    {
        options.Validate();
        var readOnly = access == StoreAccess.ReadOnly;
        var client = await GcsClient.CreateAsync(options, cancellationToken).ConfigureAwait(false);
        var store = new GcsObjectStore(client, new BucketKeys(bucket, prefix), options, readOnly, retrier);
        try
        {
            if (access != StoreAccess.ReadWrite || !options.VerifyConditionalWrites)
            {
                await retrier.RunAsync("gcs bucket check", (_, ct) => store.CheckBucketAsync(ct), cancellationToken).ConfigureAwait(false);
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

        logger.LogInformation("gcs store {Location} opened (endpoint {Endpoint}, anonymous {Anonymous}, read-only {ReadOnly})", store.Location, client.Endpoint, client.Anonymous, readOnly);
        return store;
    }

    public void Dispose() => _client.Dispose();

    public async ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        var key = _keys.Key(path);
        var item = await CallAsync("gcs head", key, async ct =>
        {
            try
            {
                return await _storage.GetObjectAsync(_keys.Bucket, key, new GetObjectOptions { RetryOptions = GcsRetry.Never }, ct).ConfigureAwait(false);
            }
            catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
        return item is null ? null : ToMetadata(path, item, key);
    }

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var listPrefix = _keys.ListPrefix(prefix);
        string? token = null;
        do
        {
            var page = await ListPageAsync(listPrefix, _options.ListPageSize, token, cancellationToken).ConfigureAwait(false);
            foreach (var item in page?.Items ?? [])
            {
                if (item.Name is { } name && _keys.PathOf(name) is { } path)
                {
                    yield return ToMetadata(path, item, listPrefix);
                }
            }

            token = page?.NextPageToken;
        }
        while (!string.IsNullOrEmpty(token));
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        var key = _keys.Key(path);
        await CallAsync("gcs delete", key, async ct =>
        {
            try
            {
                await _storage.DeleteObjectAsync(_keys.Bucket, key, new DeleteObjectOptions { RetryOptions = GcsRetry.Never }, ct).ConfigureAwait(false);
            }
            catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
            {
                // Already gone.
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One page of a listing: one request, so the timeout and the error mapping cover exactly it.</summary>
    private ValueTask<Google.Apis.Storage.v1.Data.Objects?> ListPageAsync(string listPrefix, int pageSize, string? token, CancellationToken cancellationToken) =>
        CallAsync("gcs list", listPrefix, async ct =>
        {
            var options = new ListObjectsOptions { PageSize = pageSize, PageToken = token, RetryOptions = GcsRetry.Never };
            var pages = _storage.ListObjectsAsync(_keys.Bucket, listPrefix, options).AsRawResponses().GetAsyncEnumerator(ct);
            await using (pages.ConfigureAwait(false))
            {
                return await pages.MoveNextAsync().ConfigureAwait(false) ? pages.Current : null;
            }
        }, cancellationToken, bucketLevel: true);

    private async ValueTask<bool> CheckBucketAsync(CancellationToken cancellationToken)
    {
        await ListPageAsync(_keys.KeyPrefix, 1, null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static ObjectMetadata ToMetadata(ObjectPath path, GcsObject item, string key)
    {
        if (item.Size is not { } size || item.Generation is not { } generation || size > long.MaxValue)
        {
            throw Errors.Data(key, "gcs answered with an object resource lacking size or generation");
        }

        string? putId = null;
        item.Metadata?.TryGetValue(PutIdKey, out putId);
        return new ObjectMetadata(path, (long)size, Version(generation), item.UpdatedDateTimeOffset ?? DateTimeOffset.UnixEpoch, putId);
    }

    private static ObjectVersion Version(long generation) => new(generation.ToString(CultureInfo.InvariantCulture));

    private void ThrowIfReadOnly(ObjectPath path)
    {
        if (_readOnly)
        {
            throw Errors.Invalid($"the store was opened read-only (location={Location} path={path})");
        }
    }
}
