namespace SlateSharp.Storage;

/// <summary>
/// How cloud stores retry transient failures (<see cref="ErrorKind.Unavailable"/>: 5xx, 429, timeouts, refused or
/// reset connections): exponential backoff with full jitter, bounded by attempts and by total time.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>Attempts per request, the first included; 1 turns retrying off.</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The cap of the first backoff; each later cap doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The largest single backoff.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>No retry starts once this much time has passed since the first attempt.</summary>
    public TimeSpan MaxElapsed { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (MaxAttempts < 1 || InitialBackoff < TimeSpan.Zero || MaxBackoff < InitialBackoff || MaxElapsed < TimeSpan.Zero)
        {
            throw Errors.Invalid(
                $"invalid retry options (max_attempts={MaxAttempts} initial_backoff={InitialBackoff} max_backoff={MaxBackoff} max_elapsed={MaxElapsed})");
        }
    }
}
