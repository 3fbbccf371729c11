using Google.Apis.Auth.OAuth2;

namespace SlateSharp.Storage.Gcs;

/// <summary>
/// Options for <c>gs://bucket/prefix</c> stores, which go through Google.Cloud.Storage.V1. Left unset, the endpoint is
/// <c>https://storage.googleapis.com</c> and credentials are Google's Application Default Credentials
/// (<c>GOOGLE_APPLICATION_CREDENTIALS</c> service-account JSON, gcloud user credentials, or the metadata server on
/// Google Cloud). When <c>STORAGE_EMULATOR_HOST</c> is set and <see cref="Endpoint"/> is not, the library's emulator
/// detection takes over: the variable names the endpoint and requests are anonymous.
/// </summary>
public sealed class GcsStoreOptions
{
    /// <summary>
    /// The server, e.g. <c>http://127.0.0.1:9199</c> for an emulator (the JSON API lives under <c>/storage/v1/</c> of
    /// it, as on Google's servers); null for the default (see the type). Takes precedence over <c>STORAGE_EMULATOR_HOST</c>.
    /// </summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Send no credentials (emulators, public buckets); null: only when the endpoint came from <c>STORAGE_EMULATOR_HOST</c>.</summary>
    public bool? Anonymous { get; init; }

    /// <summary>
    /// The credential to authorize with, e.g. <c>CredentialFactory.FromFile&lt;ServiceAccountCredential&gt;(path).ToGoogleCredential()</c>
    /// or <c>GoogleCredential.FromAccessToken(token)</c>; null for Application Default Credentials.
    /// </summary>
    public GoogleCredential? Credential { get; init; }

    /// <summary>
    /// How long one request may take before it fails as <see cref="ErrorKind.Unavailable"/> (and may be retried): a
    /// metadata or list request, a read with its body, or one chunk of an upload.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long opening a connection may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The chunk size of resumable uploads (the library's <c>UploadObjectOptions.ChunkSize</c>), a multiple of 256 KiB.
    /// Every put is a resumable upload; an object of at most this many bytes goes up in one chunk, a larger stream
    /// holds one chunk in memory at a time.
    /// </summary>
    public int UploadChunkSize { get; init; } = 8 << 20;

    /// <summary>
    /// At open for writing, prove with a probe object under the prefix that the server enforces
    /// <c>ifGenerationMatch</c>, and refuse to open when it does not (the firebase storage emulator does not).
    /// </summary>
    public bool VerifyConditionalWrites { get; init; } = true;

    /// <summary>Objects per list page (tests use small pages).</summary>
    internal int ListPageSize { get; init; } = 1000;

    internal void Validate()
    {
        if (UploadChunkSize <= 0 || UploadChunkSize % (256 << 10) != 0 || RequestTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero
            || ListPageSize is < 1 or > 1000)
        {
            throw Errors.Invalid(
                $"invalid gcs options: the upload chunk size must be a positive multiple of 256 KiB and timeouts positive (upload_chunk_size={UploadChunkSize} request_timeout={RequestTimeout} connect_timeout={ConnectTimeout})");
        }
    }
}
