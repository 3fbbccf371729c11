namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A <see cref="TimeProvider"/> that moves only when told to, or by a fixed step every time it is read, so timeouts
/// can be tested without waiting.
/// </summary>
public sealed class ManualClock(DateTimeOffset start, TimeSpan stepPerRead = default) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public ManualClock()
        : this(new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Add(ref _ticks, stepPerRead.Ticks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Add(ref _ticks, stepPerRead.Ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
