using System.Net;
using Google.Api.Gax;
using Google.Apis.Http;
using Google.Cloud.Storage.V1;

namespace SlateSharp.Storage.Gcs;

/// <summary>
/// The <see cref="StorageClient"/> of one store and the connection handler under it (owned here: the library's
/// factory does not dispose handlers it is given).
/// </summary>
internal sealed class GcsClient : IDisposable
{
    private readonly SocketsHttpHandler _handler;

    private GcsClient(StorageClient storage, SocketsHttpHandler handler, string endpoint, bool anonymous)
    {
        Storage = storage;
        _handler = handler;
        Endpoint = endpoint;
        Anonymous = anonymous;
    }

    public StorageClient Storage { get; }

    /// <summary>The JSON API base the client talks to, for messages (e.g. <c>https://storage.googleapis.com/storage/v1</c>).</summary>
    public string Endpoint { get; }

    public bool Anonymous { get; }

    /// <summary>
    /// Builds the client with <see cref="StorageClientBuilder"/>: an explicit <see cref="GcsStoreOptions.Endpoint"/>
    /// wins; otherwise the builder's emulator detection reads <c>STORAGE_EMULATOR_HOST</c> (endpoint from the variable,
    /// no credentials) and falls back to Google's servers and the default credential chain. The library's own retries
    /// are switched off (every request gets exactly one try: <see cref="ConfigurableMessageHandler.NumTries"/> = 1, and
    /// each call passes <c>RetryOptions.Never</c>), so the store's <see cref="RetryOptions"/> is the only retry policy;
    /// timeouts are the store's too (the HTTP client's own is off).
    /// </summary>
    public static async ValueTask<GcsClient> CreateAsync(GcsStoreOptions options, CancellationToken cancellationToken)
    {
        var emulatorHost = Environment.GetEnvironmentVariable("STORAGE_EMULATOR_HOST");
        var emulated = options.Endpoint is null && !string.IsNullOrWhiteSpace(emulatorHost);
        var anonymous = emulated || options.Anonymous == true;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
        };
        var builder = new StorageClientBuilder
        {
            HttpClientFactory = new HttpClientFromMessageHandlerFactory(
                _ => new HttpClientFromMessageHandlerFactory.ConfiguredHttpMessageHandler(handler, performsAutomaticDecompression: false, handlesRedirect: false)),
            EmulatorDetection = options.Endpoint is null ? EmulatorDetection.EmulatorOrProduction : EmulatorDetection.None,
            BaseUri = options.Endpoint is { } endpoint ? endpoint.ToString().TrimEnd('/') + "/storage/v1/" : null,
            UnauthenticatedAccess = options.Anonymous == true,
            GoogleCredential = options.Anonymous == true ? null : options.Credential,
        };

        StorageClient storage;
        try
        {
            storage = await builder.BuildAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e) when (!anonymous && options.Credential is null)
        {
            handler.Dispose();
            throw Errors.Invalid(
                $"no google credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service-account json file, run 'gcloud auth application-default login', run on google cloud, or set GcsStoreOptions.Credential or Anonymous ({e.Message})", e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or UriFormatException)
        {
            handler.Dispose();
            throw Errors.Invalid($"cannot configure the gcs client: {e.Message} (endpoint={options.Endpoint?.ToString() ?? emulatorHost ?? "google"})", e);
        }

        var http = storage.Service.HttpClient;
        http.MessageHandler.NumTries = 1;
        http.Timeout = Timeout.InfiniteTimeSpan;
        return new GcsClient(storage, handler, storage.Service.BaseUri.TrimEnd('/'), anonymous);
    }

    public void Dispose()
    {
        Storage.Dispose();
        _handler.Dispose();
    }
}
