namespace SlateSharp.Bench.Compare;

/// <summary>
/// The garbage collections of this process over the timed part of a workload: their total pause, how many of each
/// generation ran (a generation-2 count includes the lower generations it collected with it, as the runtime counts),
/// and the managed bytes every thread allocated meanwhile (the harness's own keys and returned values included).
/// </summary>
internal readonly record struct GcActivity(double PauseMillis, int Gen0, int Gen1, int Gen2, long AllocatedBytes)
{
    /// <summary>The process's collections so far, to subtract with <see cref="Since"/>.</summary>
    public static GcActivity Now() =>
        new(GC.GetTotalPauseDuration().TotalMilliseconds, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalAllocatedBytes(precise: false));

    /// <summary>The collections that ran after <paramref name="start"/>.</summary>
    public static GcActivity Since(GcActivity start)
    {
        var now = Now();
        return new(
            now.PauseMillis - start.PauseMillis, now.Gen0 - start.Gen0, now.Gen1 - start.Gen1, now.Gen2 - start.Gen2,
            now.AllocatedBytes - start.AllocatedBytes);
    }
}
