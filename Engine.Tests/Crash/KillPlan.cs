using SlateSharp.Common;

namespace SlateSharp.Tests.Crash;

/// <summary>How a kill cycle ends.</summary>
internal enum KillKind
{
    /// <summary>The child kills itself the n-th time the engine reaches a named crash point.</summary>
    CrashPoint,

    /// <summary>The parent kills the child after a delay (from its "opened", or from its start so the kill may land in open and replay).</summary>
    Delay,

    /// <summary>
    /// The parent opens the database while the child is still writing (fencing it), then kills the child during
    /// that open or after it: everything the child had acknowledged must be in what the new writer sees.
    /// </summary>
    Takeover,

    /// <summary>Nobody kills the child: it closes the database and exits.</summary>
    Close,
}

/// <summary>
/// One kill cycle: how it ends, with the seeded numbers it needs. Cycles with <see cref="CloseAfterOps"/> close the
/// database after that many calls in all, racing the writers (a kill may then land before, during or after the
/// close), some of them with a second <c>CloseAsync</c> at the same time.
/// </summary>
internal sealed record KillPlan(
    int Cycle, int ChildSeed, KillKind Kind, string? Point = null, int PointCount = 0, TimeSpan Delay = default, bool DelayFromStart = false,
    TimeSpan? KillDuringTakeover = null, int CloseAfterOps = 0, bool ConcurrentClose = false)
{
    /// <summary>
    /// Cycle <paramref name="cycle"/> of the mixed-writers test under <paramref name="seed"/>: even cycles take the
    /// named points in turn (so 24 cycles reach every point); of the odd ones, two in four kill at a random moment,
    /// one takes the database over from the running child, one closes it without a kill. On a slow store the n of a
    /// crash point is smaller, so that a cycle stays short.
    /// </summary>
    public static KillPlan ForWriters(int seed, int cycle, bool slowStore)
    {
        var random = new Random(unchecked((seed * 1_000_003) + cycle));
        var childSeed = random.Next();
        var concurrentClose = random.Next(2) == 0;
        if (cycle % 2 == 0)
        {
            var point = CrashPoints.All[cycle / 2 % CrashPoints.All.Count];
            var (count, closeAfter) = point switch
            {
                CrashPoints.WalPutBefore or CrashPoints.WalPutAfter => (random.Next(1, slowStore ? 9 : 21), 0),
                CrashPoints.FencePutBefore or CrashPoints.FencePutAfter => (1, 0),
                CrashPoints.SstUploadBefore or CrashPoints.SstUploadAfter => (random.Next(1, slowStore ? 3 : 5), 0),
                CrashPoints.ManifestPutBefore or CrashPoints.ManifestPutAfter => (random.Next(1, slowStore ? 3 : 5), 0),

                // The embedded compactor: the child writes until a job has written (or published) its outputs.
                CrashPoints.CompactionOutputsWritten or CrashPoints.CompactionPublished => (random.Next(1, slowStore ? 2 : 4), 0),
                _ => (1, random.Next(20, 300)),
            };
            return new KillPlan(cycle, childSeed, KillKind.CrashPoint, point, count, CloseAfterOps: closeAfter, ConcurrentClose: closeAfter > 0 && concurrentClose);
        }

        var delay = TimeSpan.FromMilliseconds(random.Next(0, 800));
        return (cycle % 8) switch
        {
            3 => new KillPlan(cycle, childSeed, KillKind.Takeover, Delay: delay,
                KillDuringTakeover: random.Next(2) == 0 ? TimeSpan.FromMilliseconds(random.Next(0, 300)) : null),
            7 => new KillPlan(cycle, childSeed, KillKind.Close, CloseAfterOps: random.Next(5, 300), ConcurrentClose: concurrentClose),
            _ => new KillPlan(cycle, childSeed, KillKind.Delay, Delay: delay, DelayFromStart: random.Next(8) == 0,
                CloseAfterOps: random.Next(3) == 0 ? random.Next(5, 150) : 0, ConcurrentClose: concurrentClose),
        };
    }

    /// <summary>Cycle <paramref name="cycle"/> of the prefill test: killed at a random moment, 0.3 to 1.2 s after it opened.</summary>
    public static KillPlan ForPrefill(int seed, int cycle, bool slowStore)
    {
        var random = new Random(unchecked((seed * 1_000_033) + cycle));
        return new KillPlan(cycle, random.Next(), KillKind.Delay, Delay: TimeSpan.FromMilliseconds(random.Next(300, 1_200)));
    }

    /// <summary>The value of SLATESHARP_CRASH_POINT for the child, or null.</summary>
    public string? CrashPointSpec => Point is null ? null : $"{Point}:{PointCount}";

    public override string ToString() =>
        Kind switch
        {
            KillKind.CrashPoint => $"crash point {CrashPointSpec}",
            KillKind.Delay => $"kill {Delay.TotalMilliseconds:F0} ms after {(DelayFromStart ? "start" : "open")}",
            KillKind.Takeover => $"new writer opens {Delay.TotalMilliseconds:F0} ms after the child opened, kill " +
                (KillDuringTakeover is { } kill ? $"{kill.TotalMilliseconds:F0} ms into that open" : "after it"),
            _ => "no kill",
        } +
        (CloseAfterOps > 0 ? $", close after {CloseAfterOps} ops{(ConcurrentClose ? " (two concurrent CloseAsync calls)" : string.Empty)}" : string.Empty) +
        $", child seed {ChildSeed}";
}
