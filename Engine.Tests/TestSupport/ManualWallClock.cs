namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A clock whose time of day (<see cref="GetUtcNow"/>) moves only when told to, in whole milliseconds, while its
/// timestamps and timers are the system's: expiry (TTL) is decided by a time the test sets, and retry budgets, flush
/// intervals and poll loops run as they would without it. <see cref="ManualClock"/> also freezes timestamps (a retry
/// budget would then never run out) and <see cref="ManualTimeProvider"/> fires every timer at once and moves time with
/// it (a 2 ms flush interval would spin and move the expiry clock), so neither fits a whole running database.
/// </summary>
public sealed class ManualWallClock : TimeProvider
{
    private long _unixMilliseconds = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public long UnixMilliseconds => Interlocked.Read(ref _unixMilliseconds);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(UnixMilliseconds);

    public void Advance(long milliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds);
        Interlocked.Add(ref _unixMilliseconds, milliseconds);
    }
}
