namespace SlateSharp.Simulation;

/// <summary>Whether a run has a second writer that opens at a random moment (fencing the first).</summary>
internal enum Presence
{
    Never,
    Sometimes,
    Always,
}

/// <summary>How the first writer's life ends.</summary>
internal enum Ending
{
    /// <summary><c>CloseAsync</c>.</summary>
    Close,

    /// <summary>Two <c>CloseAsync</c> calls from two tasks at once.</summary>
    CloseTwice,

    /// <summary><c>CloseAsync</c> and <c>DisposeAsync</c> from two tasks at once.</summary>
    CloseAndDispose,

    /// <summary><c>DisposeAsync</c> (which promises nothing about data; a fenced writer is disposed this way).</summary>
    Dispose,

    /// <summary>Background work stops without any flush, as in a process crash.</summary>
    Crash,
}

/// <summary>One kind of run: its faults, its actors and how the first writer ends. The runner varies everything else.</summary>
internal sealed record ScenarioProfile(
    string Name,
    string Description,
    FaultProfile Faults,
    Presence SecondWriter,
    IReadOnlyList<Ending> Endings,
    int MaxUsers = 3,
    int MaxOps = 6,
    int DurablePercent = 50);

internal static class Scenarios
{
    private static readonly Ending[] AnyEnding = [Ending.Close, Ending.CloseTwice, Ending.CloseAndDispose, Ending.Dispose, Ending.Crash];

    private static FaultProfile Faults(int percent, int max, params FaultKind[] kinds) => new(kinds.ToHashSet(), percent, max);

    private static FaultProfile ManifestFaults(int percent, int max, params FaultKind[] kinds) => new(kinds.ToHashSet(), percent, max, ["manifest/"]);

    public static IReadOnlyList<ScenarioProfile> All { get; } =
    [
        new("NoFaults",
            "users, the WAL task, the flusher, closes and a second writer interleave on an honest store",
            FaultProfile.None, Presence.Sometimes, AnyEnding),
        new("LostAnswers",
            "manifest puts that the store applies but whose answer is lost (timeout after the request was sent)",
            ManifestFaults(40, 2, FaultKind.AnswerLost), Presence.Sometimes, [Ending.Close, Ending.Dispose, Ending.Crash]),
        new("OwnCreateExists",
            "manifest creates that land but answer \"already exists\" (a retried create finding itself)",
            ManifestFaults(40, 2, FaultKind.OwnCreateExists), Presence.Sometimes, [Ending.Close, Ending.Dispose, Ending.Crash]),
        new("FalseExists",
            "create-if-absent puts that answer \"already exists\" without storing (S3 409 ConditionalRequestConflict), with a second writer",
            Faults(25, 2, FaultKind.FalseExists), Presence.Always, [Ending.Close, Ending.Dispose]),
        new("ConcurrentClose",
            "CloseAsync racing a second CloseAsync or DisposeAsync while users write to the memtable",
            FaultProfile.None, Presence.Never, [Ending.CloseTwice, Ending.CloseAndDispose], DurablePercent: 10),
        new("Mixed",
            "every fault kind, every ending, sometimes a second writer",
            Faults(6, 3, FaultKind.FailBeforeSend, FaultKind.AnswerLost, FaultKind.OwnCreateExists, FaultKind.FalseExists),
            Presence.Sometimes, AnyEnding),
    ];

    public static ScenarioProfile? Find(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
}
