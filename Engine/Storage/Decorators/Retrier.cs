using Microsoft.Extensions.Logging;
using SlateSharp.Common;

namespace SlateSharp.Storage.Decorators;

/// <summary>
/// Runs an operation until it succeeds, fails with anything but <see cref="ErrorKind.Unavailable"/>, or the attempt or
/// time budget of <see cref="RetryOptions"/> runs out. Waits with full-jitter exponential backoff on the injected clock
/// and randomness. Shared by <see cref="RetryingObjectStore"/> and by backends that retry one part of an upload.
/// </summary>
internal sealed class Retrier(RetryOptions options, TimeProvider time, RandomSource random, ILogger logger)
{
    public TimeProvider Time => time;

    /// <summary>
    /// Runs <paramref name="operation"/> (given the 1-based attempt number). On giving up, rethrows the last error
    /// with the number of attempts added to its message.
    /// </summary>
    public async ValueTask<T> RunAsync<T>(string what, Func<int, CancellationToken, ValueTask<T>> operation, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation(attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
            {
                if (!await WaitBeforeRetryAsync(what, e, attempt, started, cancellationToken).ConfigureAwait(false))
                {
                    throw GiveUp(e, attempt, started);
                }
            }
        }
    }

    /// <summary>
    /// After failed attempt <paramref name="attempt"/> of an operation that started at <paramref name="started"/>
    /// (a <see cref="TimeProvider.GetTimestamp"/> value): returns false when the budget is spent, otherwise waits the
    /// backoff and returns true. Only <see cref="ErrorKind.Unavailable"/> errors are worth retrying.
    /// </summary>
    public async ValueTask<bool> WaitBeforeRetryAsync(string what, SlateSharpException error, int attempt, long started, CancellationToken cancellationToken)
    {
        if (error.Kind != ErrorKind.Unavailable || cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        var delay = Backoff(attempt);
        if (attempt >= options.MaxAttempts || time.GetElapsedTime(started) + delay > options.MaxElapsed)
        {
            return false;
        }

        logger.LogDebug("{What} failed (attempt {Attempt}), retrying in {Delay} ms: {Error}", what, attempt, (long)delay.TotalMilliseconds, error.Message);
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The error to throw when retrying stops: the last one, with the attempts made when there were several.</summary>
    public SlateSharpException GiveUp(SlateSharpException last, int attempts, long started) =>
        attempts <= 1 || last.Kind != ErrorKind.Unavailable
            ? last
            : Errors.Unavailable($"{last.Message}; gave up after {attempts} attempts in {time.GetElapsedTime(started).TotalSeconds:0.0} s", last);

    /// <summary>The wait after failed attempt <paramref name="attempt"/>: uniform in [0, min(max, initial * 2^(attempt-1))).</summary>
    public TimeSpan Backoff(int attempt)
    {
        var cap = Math.Min(options.MaxBackoff.Ticks, options.InitialBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromTicks((long)(cap * random.NextDouble()));
    }
}
