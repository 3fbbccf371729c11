using SlateSharp.Storage.Decorators;

namespace SlateSharp.Storage;

/// <summary>
/// Proves at open that a cloud server enforces conditional writes before anything relies on them: create a fresh probe
/// object with create-if-absent twice (the second must lose) and replace it with a wrong version (must lose). The
/// probe key has a reserved segment, so it never collides with data or shows up in listings; it is deleted afterwards.
/// </summary>
internal static class ConditionalWriteProbe
{
    /// <param name="problem">What to call a failure, e.g. "the s3 server does not enforce conditional writes".</param>
    /// <param name="create">How a create-if-absent is sent, e.g. "a PUT with If-None-Match: *".</param>
    /// <param name="replace">How an if-version-matches is sent, e.g. "a PUT with If-Match".</param>
    /// <param name="wrongVersion">A version no real object has.</param>
    /// <param name="retrier">Retries each probe request on transient failures.</param>
    /// <param name="put">One conditional put of the probe object.</param>
    /// <param name="delete">Deletes the probe object; failures are the delegate's to swallow.</param>
    /// <param name="details">key=value details for the message (bucket, endpoint, probe key).</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    public static async ValueTask RunAsync(
        string problem, string create, string replace, ObjectVersion wrongVersion, Retrier retrier,
        Func<PutMode, CancellationToken, ValueTask<PutResult>> put, Func<ValueTask> delete, string details, CancellationToken cancellationToken)
    {
        var first = await retrier.RunAsync("probe", (_, ct) => put(PutMode.CreateIfAbsent, ct), cancellationToken).ConfigureAwait(false);
        try
        {
            var second = await retrier.RunAsync("probe", (_, ct) => put(PutMode.CreateIfAbsent, ct), cancellationToken).ConfigureAwait(false);
            var stale = await retrier.RunAsync("probe", (_, ct) => put(PutMode.IfVersionMatches(wrongVersion), ct), cancellationToken).ConfigureAwait(false);
            if (second.Outcome != PutOutcome.AlreadyExists || stale.Outcome != PutOutcome.VersionMismatch)
            {
                var which = second.Outcome != PutOutcome.AlreadyExists ? $"a second {create} of the same key succeeded" : $"{replace} of a wrong version succeeded";
                throw Errors.Invalid(
                    $"{problem} ({which}); SlateSharp needs them to commit safely. Use a server that enforces them, or open the store read-only ({details} first={first.Outcome})");
            }
        }
        finally
        {
            await delete().ConfigureAwait(false);
        }
    }
}
