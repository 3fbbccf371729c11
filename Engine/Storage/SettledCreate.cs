namespace SlateSharp.Storage;

/// <summary>What a settled create-if-absent found.</summary>
internal enum SettledCreateOutcome
{
    /// <summary>The object at the path holds exactly our bytes: this put, or an earlier attempt of it, stored them.</summary>
    Created,

    /// <summary>Another object is at the path; <see cref="SettledCreateResult.Existing"/> holds its bytes.</summary>
    Taken,
}

/// <summary>The outcome of <c>SettledCreate.CreateAsync</c>.</summary>
internal readonly record struct SettledCreateResult(SettledCreateOutcome Outcome, ReadOnlyMemory<byte> Existing)
{
    public bool Created => Outcome == SettledCreateOutcome.Created;
}

/// <summary>How long <see cref="SettledCreate"/> keeps trying to learn an outcome, on which clock.</summary>
internal sealed record SettleBudget(TimeSpan Timeout, TimeProvider Time)
{
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: 10 ms doubling up to 1 s (no jitter: one caller per path).</summary>
    public static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, FirstBackoff.Ticks << Math.Min(attempt - 1, 20)));
}

/// <summary>
/// A create-if-absent whose every ambiguous answer is settled by reading the object back, for objects whose bytes
/// identify their writer (WAL objects and fences carry the writer's epoch, a manifest its whole state). A stored
/// answer is final. "Already exists" may be the caller's own earlier attempt (a retried request, an NFS link()
/// retransmission, a server that drops the put id), someone else's object, or a false answer (S3's 409 under a racing
/// write); a transient failure after the request was sent may or may not have stored it. In each case the object is
/// read: our bytes mean created, other bytes mean taken, nothing means not (yet) written, and the put is sent again,
/// so an earlier attempt that lands late finds its own object or loses harmlessly. When the budget runs out the
/// outcome is unknown: the method throws <see cref="ErrorKind.Unavailable"/> and the caller must treat the object as
/// possibly written (never acknowledge on it, never delete what it may reference). Cancellation is the same: an
/// <see cref="OperationCanceledException"/> leaves the outcome unknown.
/// </summary>
internal static class SettledCreate
{
    /// <summary>
    /// Creates <paramref name="content"/> at <paramref name="path"/> unless another object is there, settling every
    /// ambiguous answer; <paramref name="beforeEachPut"/> runs right before each put is sent and may throw to send
    /// nothing more (a writer that has learned it is fenced).
    /// </summary>
    public static ValueTask<SettledCreateResult> CreateAsync(
        IObjectStore store, ObjectPath path, ReadOnlyMemory<byte> content, SettleBudget budget, CancellationToken cancellationToken, Action? beforeEachPut = null) =>
        CreateAsync(store, path, StagedPuts.Direct(store, content), budget, cancellationToken, beforeEachPut);

    /// <summary>The same, putting bytes prepared ahead (<see cref="StagedPuts"/>); the first attempt publishes what was prepared.</summary>
    public static async ValueTask<SettledCreateResult> CreateAsync(
        IObjectStore store, ObjectPath path, IStagedPut staged, SettleBudget budget, CancellationToken cancellationToken, Action? beforeEachPut = null)
    {
        var content = staged.Content;
        var started = budget.Time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            SlateSharpException doubt;
            try
            {
                beforeEachPut?.Invoke();
                var result = await staged.PutAsync(path, PutMode.CreateIfAbsent, cancellationToken).ConfigureAwait(false);
                if (result.Stored)
                {
                    return new SettledCreateResult(SettledCreateOutcome.Created, default);
                }

                doubt = Errors.Unavailable($"create-if-absent answered {result.Outcome} but no object is there (path={path} store={store.Location})");
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
            {
                doubt = e;
            }

            try
            {
                if (await store.GetAsync(path, ByteRange.All, cancellationToken).ConfigureAwait(false) is { } existing)
                {
                    return existing.Data.Span.SequenceEqual(content.Span)
                        ? new SettledCreateResult(SettledCreateOutcome.Created, default)
                        : new SettledCreateResult(SettledCreateOutcome.Taken, existing.Data);
                }
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
            {
                doubt = e;
            }

            var backoff = SettleBudget.Backoff(attempt);
            if (budget.Time.GetElapsedTime(started) + backoff > budget.Timeout)
            {
                throw Errors.Unavailable(
                    $"could not learn whether a create-if-absent was stored within {budget.Timeout.TotalSeconds:0.#} s; its outcome is unknown ({attempt} attempts; last: {doubt.Message}) (path={path} store={store.Location})",
                    doubt);
            }

            await Task.Delay(backoff, budget.Time, cancellationToken).ConfigureAwait(false);
        }
    }
}
