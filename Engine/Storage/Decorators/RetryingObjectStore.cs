using System.Runtime.CompilerServices;
using SlateSharp.Common;

namespace SlateSharp.Storage.Decorators;

/// <summary>
/// Retries transient failures (<see cref="ErrorKind.Unavailable"/>) of an inner store with <see cref="Retrier"/>.
/// Reads, deletes, overwrites and listings are idempotent and simply run again (a listing resumes after the last path
/// it returned). A conditional put is tagged with a unique put id; when a retry of it finds "already exists" or
/// "version mismatch", the store reads the object's put id back: if it is ours, the earlier attempt landed and the put
/// is reported as stored. If someone replaced our object in the moment between, the put is reported as lost, which
/// errs on the safe side (the caller re-reads). A retried create that finds "already exists" but no object is not an
/// answer (an earlier attempt may still land): it counts as a failed attempt, and when attempts run out the put fails
/// as Unavailable, its outcome unknown. Stores that drop the put id (some S3-compatible servers drop
/// <c>x-amz-meta-*</c>) make a landed retry look lost; the engine settles such answers by reading the object back
/// (<c>Storage/SettledCreate</c>). A put from a stream that cannot seek runs once: it cannot be replayed.
/// </summary>
internal sealed class RetryingObjectStore(IObjectStore inner, Retrier retrier, RandomSource random) : IObjectStore, IObjectStoreDecorator, IStagingObjectStore, IReadIntoObjectStore, IReadKnownVersionObjectStore
{
    public IObjectStore Inner => inner;

    /// <summary>Disposes the inner store (the cloud stores own HTTP clients).</summary>
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    public string Location => inner.Location;

    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        retrier.RunAsync($"head {path}", (_, ct) => inner.HeadAsync(path, ct), cancellationToken);

    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        retrier.RunAsync($"get {path}", (_, ct) => inner.GetAsync(path, range, ct), cancellationToken);

    public bool ReadsInPlace => ReadsInto.ReadsInPlace(inner);

    /// <summary>Retried as a get is: an attempt that failed part-way is overwritten by the next.</summary>
    public ValueTask<GetResult?> GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        retrier.RunAsync($"get {path}", (_, ct) => ReadsInto.GetIntoAsync(inner, path, offset, destination, ct), cancellationToken);

    /// <summary>Retried as a get is.</summary>
    public ValueTask<GetResult?> GetKnownVersionIntoAsync(ObjectPath path, ObjectVersion version, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        retrier.RunAsync($"get {path}", (_, ct) => ReadsInto.GetIntoAsync(inner, path, version, offset, destination, ct), cancellationToken);

    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        options = Tagged(options);
        return retrier.RunAsync($"put {path}", async (attempt, ct) =>
        {
            var result = await inner.PutAsync(path, content, options, ct).ConfigureAwait(false);
            return attempt > 1 ? await RecogniseOwnWriteAsync(path, options, result, ct).ConfigureAwait(false) : result;
        }, cancellationToken);
    }

    public bool PreparesAhead => StagedPuts.PreparesAhead(inner);

    /// <summary>Each put made from the staged bytes is retried as a plain put is, and recognised as ours the same way.</summary>
    public async ValueTask<IStagedPut> StageAsync(ObjectPath near, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        new DecoratedStagedPut(
            await retrier.RunAsync($"stage {near}", (_, ct) => StagedPuts.StageAsync(inner, near, content, ct), cancellationToken).ConfigureAwait(false),
            (staged, path, options, ct) =>
            {
                options = Tagged(options);
                return retrier.RunAsync($"put {path}", async (attempt, c) =>
                {
                    var result = await staged.PutAsync(path, options, c).ConfigureAwait(false);
                    return attempt > 1 ? await RecogniseOwnWriteAsync(path, options, result, c).ConfigureAwait(false) : result;
                }, ct);
            });

    public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        options = Tagged(options);
        if (!content.CanSeek)
        {
            return inner.PutAsync(path, content, options, cancellationToken);
        }

        var start = content.Position;
        return retrier.RunAsync($"put {path}", async (attempt, ct) =>
        {
            content.Position = start;
            var result = await inner.PutAsync(path, content, options, ct).ConfigureAwait(false);
            return attempt > 1 ? await RecogniseOwnWriteAsync(path, options, result, ct).ConfigureAwait(false) : result;
        }, cancellationToken);
    }

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectPath.ValidatePrefix(prefix);
        var started = retrier.Time.GetTimestamp();
        string? last = null;
        for (var attempt = 1; ; attempt++)
        {
            var enumerator = inner.ListAsync(prefix, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    SlateSharpException? failure = null;
                    var more = false;
                    try
                    {
                        more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
                    {
                        failure = e;
                    }

                    if (failure is not null)
                    {
                        if (!await retrier.WaitBeforeRetryAsync($"list {prefix}", failure, attempt, started, cancellationToken).ConfigureAwait(false))
                        {
                            throw retrier.GiveUp(failure, attempt, started);
                        }

                        break;
                    }

                    if (!more)
                    {
                        yield break;
                    }

                    var item = enumerator.Current;
                    if (last is null || string.CompareOrdinal(item.Path.Value, last) > 0)
                    {
                        last = item.Path.Value;
                        yield return item;
                    }
                }
            }
            finally
            {
                await enumerator.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        await retrier.RunAsync($"delete {path}", async (_, ct) =>
        {
            await inner.DeleteAsync(path, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    private PutOptions Tagged(PutOptions options) =>
        options.Mode.IsConditional && options.PutId is null ? options with { PutId = random.NextId() } : options;

    private async ValueTask<PutResult> RecogniseOwnWriteAsync(ObjectPath path, PutOptions options, PutResult result, CancellationToken cancellationToken)
    {
        if (result.Stored || options.PutId is null)
        {
            return result;
        }

        var head = await inner.HeadAsync(path, cancellationToken).ConfigureAwait(false);
        if (head is not null && head.PutId == options.PutId)
        {
            return PutResult.StoredAs(head.Version);
        }

        if (head is null && result.Outcome == PutOutcome.AlreadyExists)
        {
            // "Exists" with nothing there: a false answer (S3 409 under a racing write) or an object deleted since. An
            // earlier attempt of this put may still commit, so neither outcome is known yet: try again.
            throw Errors.Unavailable($"create-if-absent answered already-exists but no object is there; outcome unknown (path={path} store={inner.Location})");
        }

        return result;
    }
}
