using Amazon.Runtime;

namespace SlateSharp.Storage.S3;

/// <summary>
/// Options for <c>s3://bucket/prefix</c> stores. Anything left unset comes from the standard AWS configuration:
/// <c>AWS_ENDPOINT_URL_S3</c> / <c>AWS_ENDPOINT_URL</c>, <c>AWS_REGION</c>, <c>AWS_ACCESS_KEY_ID</c> /
/// <c>AWS_SECRET_ACCESS_KEY</c>, <c>AWS_PROFILE</c> and the rest of the SDK's credential chain (profiles, SSO,
/// container and instance roles).
/// </summary>
public sealed class S3StoreOptions
{
    /// <summary>
    /// The endpoint of an S3-compatible server (e.g. <c>http://127.0.0.1:7480</c>); null for AWS. With an endpoint,
    /// requests use path-style addressing and send checksums only where the protocol requires them, which is what
    /// S3-compatible servers accept.
    /// </summary>
    public string? Endpoint { get; init; }

    /// <summary>The region, e.g. <c>eu-west-1</c>; null to take it from the environment (for an endpoint: us-east-1).</summary>
    public string? Region { get; init; }

    /// <summary>Address buckets as <c>endpoint/bucket</c> instead of <c>bucket.endpoint</c>; null: only with <see cref="Endpoint"/>.</summary>
    public bool? ForcePathStyle { get; init; }

    /// <summary>Credentials to sign with (e.g. <c>new BasicAWSCredentials(key, secret)</c>); null for the SDK's default chain.</summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>How long one request may take before it fails as <see cref="ErrorKind.Unavailable"/> (and may be retried).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long opening a connection may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The part size of multipart uploads; a stream put of at most this many bytes is one PUT. Memory held by one
    /// streamed upload is at most <see cref="MultipartPartSize"/> × <see cref="MaxConcurrentParts"/>.
    /// </summary>
    public int MultipartPartSize { get; init; } = 8 << 20;

    /// <summary>Parts of one multipart upload in flight at once (each holds one part buffer).</summary>
    public int MaxConcurrentParts { get; init; } = 2;

    /// <summary>
    /// The largest conditional put read from a stream. Conditional puts are single PUTs (multipart completion does
    /// not honour <c>If-None-Match</c> on every server), so a stream is buffered whole; larger ones are refused.
    /// </summary>
    public int MaxConditionalStreamBytes { get; init; } = 64 << 20;

    /// <summary>
    /// At open for writing, prove with a probe object under the prefix that the server enforces <c>If-None-Match</c>
    /// and <c>If-Match</c>, and refuse to open when it does not. Only turn this off for a server known to enforce them.
    /// </summary>
    public bool VerifyConditionalWrites { get; init; } = true;

    /// <summary>Keys per ListObjectsV2 page (tests use small pages).</summary>
    internal int ListPageSize { get; init; } = 1000;

    internal void Validate()
    {
        if (MultipartPartSize < 5 << 20 || MaxConcurrentParts < 1 || MaxConditionalStreamBytes < 0
            || RequestTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero || ListPageSize is < 1 or > 1000)
        {
            throw Errors.Invalid(
                $"invalid s3 options: part size must be at least 5 MiB, concurrency and timeouts positive (multipart_part_size={MultipartPartSize} max_concurrent_parts={MaxConcurrentParts} request_timeout={RequestTimeout} connect_timeout={ConnectTimeout})");
        }
    }
}
