using Google;
using Google.Apis.Auth.OAuth2.Responses;

namespace SlateSharp.Storage.Gcs;

/// <summary>How the library's failures become the engine's error kinds, each naming the bucket, key and endpoint.</summary>
internal sealed partial class GcsObjectStore
{
    private string Details(string key) => $"bucket={_keys.Bucket} key={key} endpoint={_client.Endpoint}";

    /// <summary>
    /// Runs one library call within <see cref="GcsStoreOptions.RequestTimeout"/> (on the store's clock) and maps what
    /// it throws (see <see cref="Map"/>). A cancellation the caller asked for propagates as it is.
    /// </summary>
    private async ValueTask<T> CallAsync<T>(string what, string key, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken, bool bucketLevel = false)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _retrier.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await call(linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (Map(e, what, key, cancellationToken, bucketLevel) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>
    /// Maps a failure of the library to the engine's kinds. HTTP answers: 401/403 access denied, 404 of a bucket-level
    /// request (bucket not found) and other 4xx are <see cref="ErrorKind.Invalid"/>; 409 (a conflicting concurrent
    /// request: says nothing about whether ours landed), 408, 429 and 5xx are <see cref="ErrorKind.Unavailable"/>.
    /// Network failures and timeouts are <see cref="ErrorKind.Unavailable"/>, an answer the client cannot parse is
    /// <see cref="ErrorKind.Data"/>, and anything else <see cref="ErrorKind.Internal"/>, so nothing escapes untyped.
    /// Returns null for an engine error (already typed) and for a cancellation the caller asked for: both propagate
    /// unchanged.
    /// </summary>
    private SlateSharpException? Map(Exception error, string what, string key, CancellationToken cancellationToken, bool bucketLevel = false)
    {
        if (error is SlateSharpException || (error is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return null;
        }

        if (error is GoogleApiException api && api.HttpStatusCode != 0)
        {
            var status = (int)api.HttpStatusCode;
            var message = api.Error?.Message ?? api.Message;
            var details = $"{Details(key)} status={status}";
            return status switch
            {
                404 when bucketLevel => Errors.Invalid($"{what}: bucket not found: {message} ({details})", error),
                401 or 403 => Errors.Invalid($"{what}: access denied: {message} ({details})", error),
                409 => Errors.Unavailable($"{what}: conflicting concurrent request, outcome unknown: {message} ({details})", error),
                _ when TransportErrors.IsTransientStatus(status) => Errors.Unavailable($"{what}: server error: {message} ({details})", error),
                _ => Errors.Invalid($"{what}: request rejected: {message} ({details})", error),
            };
        }

        if (error is TokenResponseException token)
        {
            var status = token.StatusCode is { } code ? (int)code : 0;
            var message = $"{what}: cannot get an access token: {token.Error?.Error} {token.Error?.ErrorDescription} ({Details(key)} status={status})";
            return TransportErrors.IsTransientStatus(status) ? Errors.Unavailable(message, error) : Errors.Invalid("access denied: " + message, error);
        }

        if (TransportErrors.Classify(error, what, Details(key), _options.RequestTimeout, cancellationToken) is { } transport)
        {
            return transport;
        }

        return error is Newtonsoft.Json.JsonException or FormatException
            ? Errors.Data(key, $"{what}: gcs answered with something the client cannot read: {error.Message} ({Details(key)})", error)
            : Errors.Internal($"{what}: the gcs client failed: {error.GetType().Name}: {error.Message} ({Details(key)})", error);
    }
}
