using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Microsoft.Extensions.Logging;
using SlateSharp.Common;
using SlateSharp.Storage.Decorators;

namespace SlateSharp.Storage.Gcs;

/// <summary>
/// An object store in a Google Cloud Storage bucket over the GCS JSON API (HttpClient; Google.Apis.Auth for tokens).
/// Create-if-absent is an upload with <c>ifGenerationMatch=0</c>, replace-if-version-matches one with
/// <c>ifGenerationMatch=&lt;generation&gt;</c>; the generation is the version. Small objects go up in one multipart
/// request, larger streams as resumable uploads in chunks. Chunks are retried here (resuming from what the server
/// persisted); whole calls are retried by <see cref="RetryingObjectStore"/>.
/// </summary>
internal sealed partial class GcsObjectStore : IObjectStore, IDisposable
{
    private const string Scope = "https://www.googleapis.com/auth/devstorage.read_write";
    private static readonly Uri DefaultEndpoint = new("https://storage.googleapis.com");

    private readonly HttpClient _http;
    private readonly ITokenAccess? _credential;
    private readonly BucketKeys _keys;
    private readonly GcsStoreOptions _options;
    private readonly bool _readOnly;
    private readonly Retrier _retrier;
    private readonly string _endpoint;
    private readonly string _bucketPath;

    private GcsObjectStore(HttpClient http, ITokenAccess? credential, BucketKeys keys, GcsStoreOptions options, bool readOnly, Retrier retrier, Uri endpoint)
    {
        _http = http;
        _credential = credential;
        _keys = keys;
        _options = options;
        _readOnly = readOnly;
        _retrier = retrier;
        _endpoint = endpoint.ToString().TrimEnd('/');
        _bucketPath = "b/" + Uri.EscapeDataString(keys.Bucket) + "/o";
    }

    public string Location => _keys.Location("gs");

    /// <summary>
    /// Opens <c>gs://<paramref name="bucket"/>/<paramref name="prefix"/></c>: resolves endpoint and credentials, checks
    /// that the bucket answers and, when <paramref name="access"/> is <see cref="StoreAccess.ReadWrite"/>, that the server enforces generation preconditions.
    /// </summary>
    public static async ValueTask<GcsObjectStore> OpenAsync(
        string bucket, string prefix, GcsStoreOptions options, StoreAccess access, Retrier retrier, RandomSource random, ILogger logger, CancellationToken cancellationToken)
    {
        options.Validate();
        var readOnly = access == StoreAccess.ReadOnly;
        var emulator = Environment.GetEnvironmentVariable("STORAGE_EMULATOR_HOST");
        var endpoint = options.Endpoint ?? (string.IsNullOrEmpty(emulator) ? DefaultEndpoint : ParseEmulatorHost(emulator));
        var anonymous = options.Anonymous ?? (options.Endpoint is null && !string.IsNullOrEmpty(emulator));
        var credential = anonymous ? null : await ResolveCredentialAsync(options, cancellationToken).ConfigureAwait(false);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
        };
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var store = new GcsObjectStore(http, credential, new BucketKeys(bucket, prefix), options, readOnly, retrier, endpoint);
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

        logger.LogInformation("gcs store {Location} opened (endpoint {Endpoint}, anonymous {Anonymous}, read-only {ReadOnly})", store.Location, endpoint, anonymous, readOnly);
        return store;
    }

    public void Dispose() => _http.Dispose();

    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        var key = _keys.Key(path);
        return SendAsync("gcs head", key, () => new HttpRequestMessage(HttpMethod.Get, ObjectUrl(key)), async (response, ct) =>
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            await ThrowIfFailedAsync(response, "gcs head", key, ct).ConfigureAwait(false);
            return ToMetadata(path, await GcsJson.ReadObjectAsync(response.Content, key, ct).ConfigureAwait(false));
        }, cancellationToken);
    }

    public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default)
    {
        var key = _keys.Key(path);
        var header = HttpRanges.Header(range);
        if (header is null && !range.IsAll)
        {
            return await HttpRanges.ResolveWithoutBodyAsync(path, range, () => HeadAsync(path, cancellationToken)).ConfigureAwait(false);
        }

        var result = await SendAsync("gcs get", key, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, ObjectUrl(key) + "?alt=media");
            if (header is not null)
            {
                request.Headers.TryAddWithoutValidation("Range", header);
            }

            return request;
        }, async (response, ct) =>
        {
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                return (Found: response.StatusCode != HttpStatusCode.NotFound, Result: (GetResult?)null);
            }

            await ThrowIfFailedAsync(response, "gcs get", key, ct).ConfigureAwait(false);
            var partial = response.StatusCode == HttpStatusCode.PartialContent;
            var length = response.Content.Headers.ContentLength
                ?? throw Errors.Data(key, "gcs answered a get without Content-Length");
            var (start, size) = partial ? HttpRanges.ParseContentRange(response.Content.Headers.ContentRange?.ToString(), "gcs get", key) : (0, length);
            var generation = response.Headers.TryGetValues("x-goog-generation", out var values) ? values.FirstOrDefault() : null;
            if (generation is null)
            {
                throw Errors.Data(key, "gcs answered a get without an x-goog-generation header");
            }

            var body = await HttpRanges.ReadBodyAsync(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), length, "gcs get", key, ct).ConfigureAwait(false);
            var modified = response.Content.Headers.LastModified ?? DateTimeOffset.UnixEpoch;
            var putId = response.Headers.TryGetValues("x-goog-meta-" + GcsJson.PutIdKey, out var ids) ? ids.FirstOrDefault() : null;
            var metadata = new ObjectMetadata(path, size, new ObjectVersion(generation), modified, putId);
            if (header is not null && !partial)
            {
                // The server ignored the Range header (the firebase emulator does past the end): cut the range here.
                var (s, n) = range.Resolve(size, path);
                return (Found: true, Result: new GetResult(metadata, s, body.AsMemory((int)s, (int)n)));
            }

            return (Found: true, Result: new GetResult(metadata, start, body));
        }, cancellationToken).ConfigureAwait(false);

        return result.Found && result.Result is null
            ? await HttpRanges.ResolveWithoutBodyAsync(path, range, () => HeadAsync(path, cancellationToken)).ConfigureAwait(false) // 416: at or past the end
            : result.Result;
    }

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var listPrefix = _keys.ListPrefix(prefix);
        string? token = null;
        do
        {
            var url = $"{_endpoint}/storage/v1/{_bucketPath}?prefix={Uri.EscapeDataString(listPrefix)}&maxResults={_options.ListPageSize.ToString(CultureInfo.InvariantCulture)}"
                + (token is null ? string.Empty : "&pageToken=" + Uri.EscapeDataString(token));
            var (items, next) = await SendAsync("gcs list", listPrefix, () => new HttpRequestMessage(HttpMethod.Get, url), async (response, ct) =>
            {
                await ThrowIfFailedAsync(response, "gcs list", listPrefix, ct, bucketLevel: true).ConfigureAwait(false);
                using var document = await GcsJson.ParseAsync(response.Content, listPrefix, ct).ConfigureAwait(false);
                var page = new List<ObjectMetadata>();
                if (document.RootElement.TryGetProperty("items", out var array) && array.ValueKind == JsonValueKind.Array)
                {
                    foreach (var element in array.EnumerateArray())
                    {
                        var item = GcsJson.ParseObject(element, listPrefix);
                        if (_keys.PathOf(item.Name) is { } path)
                        {
                            page.Add(ToMetadata(path, item));
                        }
                    }
                }

                var nextToken = document.RootElement.TryGetProperty("nextPageToken", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                return (page, nextToken);
            }, cancellationToken).ConfigureAwait(false);

            foreach (var item in items)
            {
                yield return item;
            }

            token = next;
        }
        while (!string.IsNullOrEmpty(token));
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        var key = _keys.Key(path);
        await SendAsync("gcs delete", key, () => new HttpRequestMessage(HttpMethod.Delete, ObjectUrl(key)), async (response, ct) =>
        {
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                await ThrowIfFailedAsync(response, "gcs delete", key, ct).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static Uri ParseEmulatorHost(string host)
    {
        var text = host.Contains("://", StringComparison.Ordinal) ? host : "http://" + host;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri)
            ? uri
            : throw Errors.Invalid($"STORAGE_EMULATOR_HOST is not a host:port or url (value={host})");
    }

    private static async ValueTask<ITokenAccess> ResolveCredentialAsync(GcsStoreOptions options, CancellationToken cancellationToken)
    {
        GoogleCredential credential;
        try
        {
            credential = options.Credential ?? await GoogleCredential.GetApplicationDefaultAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw Errors.Invalid(
                $"no google credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service-account json file, run 'gcloud auth application-default login', run on google cloud, or set GcsStoreOptions.Credential or Anonymous ({e.Message})", e);
        }

        return credential.IsCreateScopedRequired ? credential.CreateScoped(Scope) : credential;
    }

    private async ValueTask<bool> CheckBucketAsync(CancellationToken cancellationToken)
    {
        var url = $"{_endpoint}/storage/v1/{_bucketPath}?maxResults=1&prefix={Uri.EscapeDataString(_keys.KeyPrefix)}";
        return await SendAsync("gcs bucket check", _keys.KeyPrefix, () => new HttpRequestMessage(HttpMethod.Get, url), async (response, ct) =>
        {
            await ThrowIfFailedAsync(response, "gcs bucket check", _keys.KeyPrefix, ct, bucketLevel: true).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    private string ObjectUrl(string key) => $"{_endpoint}/storage/v1/{_bucketPath}/{Uri.EscapeDataString(key)}";

    private static ObjectMetadata ToMetadata(ObjectPath path, GcsObject item) =>
        new(path, item.Size, new ObjectVersion(item.Generation), item.Updated, item.PutId);

    private void ThrowIfReadOnly(ObjectPath path)
    {
        if (_readOnly)
        {
            throw Errors.Invalid($"the store was opened read-only (location={Location} path={path})");
        }
    }

    private string Details(string key) => $"bucket={_keys.Bucket} key={key} endpoint={_endpoint}";

    /// <summary>
    /// Sends one request built by <paramref name="create"/> with a bearer token (unless anonymous) and hands the
    /// response to <paramref name="handle"/>, all within <see cref="GcsStoreOptions.RequestTimeout"/>. Network
    /// failures and timeouts become <see cref="ErrorKind.Unavailable"/> errors naming the endpoint.
    /// </summary>
    private async ValueTask<T> SendAsync<T>(
        string what, string key, Func<HttpRequestMessage> create, Func<HttpResponseMessage, CancellationToken, ValueTask<T>> handle, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _retrier.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = create();
            if (_credential is not null)
            {
                var token = await _credential.GetAccessTokenForRequestAsync(null, linked.Token).ConfigureAwait(false);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            return await handle(response, linked.Token).ConfigureAwait(false);
        }
        catch (TokenResponseException e)
        {
            throw Errors.Invalid($"{what}: access denied: cannot get an access token: {e.Error?.Error} {e.Error?.ErrorDescription} ({Details(key)})", e);
        }
        catch (Exception e) when (e is not SlateSharpException && TransportErrors.Classify(e, what, Details(key), _options.RequestTimeout, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>
    /// Throws for an unsuccessful response: 401/403 access denied and (for bucket-level requests) 404 bucket not found
    /// are <see cref="ErrorKind.Invalid"/>; 408, 409 (a conflicting concurrent request), 429 and 5xx are
    /// <see cref="ErrorKind.Unavailable"/>.
    /// </summary>
    private async ValueTask ThrowIfFailedAsync(HttpResponseMessage response, string what, string key, CancellationToken cancellationToken, bool bucketLevel = false)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        var message = await GcsJson.ErrorMessageAsync(response.Content, cancellationToken).ConfigureAwait(false);
        var details = $"{Details(key)} status={status}";
        throw status switch
        {
            404 when bucketLevel => Errors.Invalid($"{what}: bucket not found: {message} ({details})"),
            401 or 403 => Errors.Invalid($"{what}: access denied: {message} ({details})"),

            // A conflicting concurrent change to the same object: says nothing about whether ours landed.
            409 => Errors.Unavailable($"{what}: conflicting concurrent request, outcome unknown: {message} ({details})"),
            _ when TransportErrors.IsTransientStatus(status) => Errors.Unavailable($"{what}: server error: {message} ({details})"),
            _ => Errors.Invalid($"{what}: request rejected: {message} ({details})"),
        };
    }
}
