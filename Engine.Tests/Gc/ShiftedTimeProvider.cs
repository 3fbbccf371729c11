namespace SlateSharp.Tests.Gc;

/// <summary>
/// The system clock moved forward by <see cref="Offset"/>: a database runs on it with real timers, and a test ages
/// everything it stored by hours at once by raising the offset (no sleeping).
/// </summary>
internal sealed class ShiftedTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
