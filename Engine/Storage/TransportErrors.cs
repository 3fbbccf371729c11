using System.Net.Sockets;

namespace SlateSharp.Storage;

/// <summary>Classifies failures of the HTTP transport that cloud stores share: unreachable endpoints and timeouts.</summary>
internal static class TransportErrors
{
    /// <summary>True for HTTP statuses worth retrying: 408, 429 and every 5xx.</summary>
    public static bool IsTransientStatus(int status) => status is 408 or 429 or >= 500;

    /// <summary>
    /// Maps a network-level failure (refused or reset connection, DNS, TLS, closed stream, timeout) to an
    /// <see cref="ErrorKind.Unavailable"/> error naming the endpoint, or returns null when <paramref name="error"/> is
    /// not one. A cancellation the caller asked for is not a failure: it returns null so it propagates unchanged.
    /// </summary>
    public static SlateSharpException? Classify(Exception error, string what, string details, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (error is OperationCanceledException)
        {
            return cancellationToken.IsCancellationRequested
                ? null
                : Errors.Unavailable($"{what}: request timed out after {timeout.TotalSeconds:0.#} s ({details})", error);
        }

        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return Errors.Unavailable($"{what}: cannot reach the endpoint: {socket.SocketErrorCode} ({details})", error);
            }

            if (e is HttpRequestException or IOException or TimeoutException)
            {
                return Errors.Unavailable($"{what}: cannot reach the endpoint: {Innermost(e).Message} ({details})", error);
            }
        }

        return null;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
