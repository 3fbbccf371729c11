using SlateSharp.Common;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// How one cycle ends: the child kills itself at the n-th time the engine reaches a named crash point, or the
/// parent kills it after a delay (counted from the child's "opened", or from its start so that some kills land
/// while it opens and replays), or nobody kills it and it closes the database and exits. Some cycles close the
/// database after a number of operations, racing the writers (then a kill may land before, during or after the close).
/// </summary>
internal sealed record KillPlan(int Cycle, int ChildSeed, string? Point, int PointCount, TimeSpan? Delay, bool DelayFromStart, int CloseAfterOps)
{
    /// <summary>
    /// Cycle <paramref name="cycle"/> of the mixed-writers test under <paramref name="seed"/>: even cycles take the
    /// named points in turn (so 20 cycles reach every point), odd cycles kill at a random moment, except every sixth
    /// cycle, which closes and is not killed.
    /// </summary>
    public static KillPlan ForWriters(int seed, int cycle)
    {
        var random = new Random(unchecked((seed * 1_000_003) + cycle));
        var childSeed = random.Next();
        if (cycle % 2 == 0)
        {
            var point = CrashPoints.All[cycle / 2 % CrashPoints.All.Count];
            var (count, closeAfter) = point switch
            {
                CrashPoints.WalPutBefore or CrashPoints.WalPutAfter => (random.Next(1, 21), 0),
                CrashPoints.FencePutBefore or CrashPoints.FencePutAfter => (1, 0),
                CrashPoints.SstUploadBefore or CrashPoints.SstUploadAfter => (random.Next(1, 5), 0),
                CrashPoints.ManifestPutBefore or CrashPoints.ManifestPutAfter => (random.Next(1, 5), 0),
                _ => (1, random.Next(20, 300)),
            };
            return new KillPlan(cycle, childSeed, point, count, TimeSpan.Zero, false, closeAfter);
        }

        if (cycle % 6 == 5)
        {
            return new KillPlan(cycle, childSeed, null, 0, null, false, random.Next(5, 300));
        }

        var fromStart = random.Next(8) == 0;
        var delay = TimeSpan.FromMilliseconds(random.Next(0, 1_000));
        var close = random.Next(3) == 0 ? random.Next(5, 150) : 0;
        return new KillPlan(cycle, childSeed, null, 0, delay, fromStart, close);
    }

    /// <summary>Cycle <paramref name="cycle"/> of the prefill test: killed at a random moment, 0.3 to 1.5 s after it opened.</summary>
    public static KillPlan ForPrefill(int seed, int cycle)
    {
        var random = new Random(unchecked((seed * 1_000_033) + cycle));
        return new KillPlan(cycle, random.Next(), null, 0, TimeSpan.FromMilliseconds(random.Next(300, 1_500)), false, 0);
    }

    /// <summary>The value of SLATESHARP_CRASH_POINT for the child, or null.</summary>
    public string? CrashPointSpec => Point is null ? null : $"{Point}:{PointCount}";

    public override string ToString() =>
        (Point is not null ? $"crash point {CrashPointSpec}" : Delay is { } delay ? $"kill {delay.TotalMilliseconds:F0} ms after {(DelayFromStart ? "start" : "open")}" : "no kill") +
        (CloseAfterOps > 0 ? $", close after {CloseAfterOps} ops" : string.Empty) + $", child seed {ChildSeed}";
}
