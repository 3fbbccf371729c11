using Microsoft.Coyote.Random;

namespace SlateSharp.Simulation;

/// <summary>The ways a request to a real object store goes wrong that the engine must survive.</summary>
internal enum FaultKind
{
    /// <summary>The request fails before it reaches the store: nothing happened, the caller sees an error.</summary>
    FailBeforeSend,

    /// <summary>The store applied the put or delete, but the answer was lost (timeout, reset): the caller sees an error.</summary>
    AnswerLost,

    /// <summary>A create-if-absent is stored, but the answer says "already exists" (a retried create finding itself).</summary>
    OwnCreateExists,

    /// <summary>A create-if-absent answers "already exists" without storing anything (S3's 409 ConditionalRequestConflict).</summary>
    FalseExists,
}

/// <summary>
/// Which faults a run injects, how often (percent of eligible requests), how many at most, and on which objects
/// (path prefixes; empty: all).
/// </summary>
internal sealed record FaultProfile(IReadOnlySet<FaultKind> Kinds, int Percent, int MaxFaults, IReadOnlyList<string>? Prefixes = null)
{
    public static FaultProfile None { get; } = new(new HashSet<FaultKind>(), 0, 0);
}

/// <summary>
/// Decides, request by request, whether to inject a fault. Every decision is a Coyote-controlled choice, so it is
/// part of the schedule: the same seed or trace injects the same faults at the same requests.
/// </summary>
internal sealed class FaultPlan(FaultProfile profile, Generator choices)
{
    private int _injected;

    /// <summary>Off for the final check: the reopened database reads an honest store.</summary>
    public bool Enabled { get; set; } = true;

    public int Injected => _injected;

    /// <summary>A fault for a request on <paramref name="path"/> that can suffer any of <paramref name="eligible"/>, or null.</summary>
    public FaultKind? Next(string path, params FaultKind[] eligible)
    {
        if (!Enabled || _injected >= profile.MaxFaults || profile.Percent == 0 ||
            (profile.Prefixes is { Count: > 0 } prefixes && !prefixes.Any(p => path.StartsWith(p, StringComparison.Ordinal))))
        {
            return null;
        }

        var candidates = eligible.Where(profile.Kinds.Contains).ToArray();
        if (candidates.Length == 0 || choices.NextInteger(100) >= profile.Percent)
        {
            return null;
        }

        _injected++;
        return candidates[candidates.Length == 1 ? 0 : choices.NextInteger(candidates.Length)];
    }
}
