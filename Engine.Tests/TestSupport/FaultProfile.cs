namespace SlateSharp.Tests.TestSupport;

/// <summary>The kind of request a fault decision is made for.</summary>
public enum StoreOperation
{
    Get,
    Head,
    Put,
    List,
    Delete,
}

/// <summary>
/// Which part of a database a request touches, from the first path segment named <c>wal</c>, <c>manifest</c> or
/// <c>compacted</c> (so a database under a prefix, <c>db/wal/…</c>, is classified the same as one at the root).
/// </summary>
public enum StoreArea
{
    Wal,
    Manifest,
    Compacted,
    Other,
}

/// <summary>
/// Probabilities, per request, of each fault a <see cref="ChaosObjectStore"/> can inject. At most one fault strikes a
/// request (their sum must not exceed 1); <see cref="Slow"/> is drawn on its own and can come with any of them.
/// A fault that makes no sense for the request (an "exists" answer to a plain overwrite, a late delete) is not injected.
/// </summary>
public sealed record FaultRates
{
    public static FaultRates None { get; } = new();

    /// <summary>503, 429, a timeout before the request reached the server, or a reset connection: nothing happened.</summary>
    public double Transient { get; init; }

    /// <summary>A put or delete is applied, then the caller sees a timeout.</summary>
    public double AnswerLost { get; init; }

    /// <summary>A create-if-absent stores, and the answer is "already exists" (the caller's own write, found by a retry).</summary>
    public double ExistsAfterStoring { get; init; }

    /// <summary>A conditional put answers "already exists" (or "version mismatch") and stores nothing: S3's 409 mis-mapped.</summary>
    public double ExistsWithoutStoring { get; init; }

    /// <summary>A put answers a timeout at once and is applied later, after other requests have been answered.</summary>
    public double LateCommit { get; init; }

    /// <summary>A listing fails part-way through, after a few items.</summary>
    public double ListCut { get; init; }

    /// <summary>The request is delayed by up to <see cref="FaultProfile.MaxDelay"/> (then proceeds, or meets its fault).</summary>
    public double Slow { get; init; }

    public double Total => Transient + AnswerLost + ExistsAfterStoring + ExistsWithoutStoring + LateCommit + ListCut;
}

/// <summary>
/// Which faults a <see cref="ChaosObjectStore"/> injects where: rules by operation and area (null matches any), the
/// last matching rule wins. Immutable; <see cref="With"/> returns a new profile.
/// </summary>
public sealed class FaultProfile
{
    private readonly IReadOnlyList<(StoreOperation? Operation, StoreArea? Area, FaultRates Rates)> _rules;

    private FaultProfile(string name, IReadOnlyList<(StoreOperation?, StoreArea?, FaultRates)> rules)
    {
        Name = name;
        _rules = rules;
    }

    public string Name { get; }

    /// <summary>The longest injected delay.</summary>
    public TimeSpan MaxDelay { get; private init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>A late commit lands after between 1 and this many later requests have been answered.</summary>
    public int MaxLateCommitLag { get; private init; } = 12;

    /// <summary>No faults.</summary>
    public static FaultProfile None { get; } = new("none", []);

    /// <summary>503/429/timeouts/resets on every kind of request, and listings cut part-way.</summary>
    public static FaultProfile Transient { get; } = None.Named("transient")
        .With(null, null, new FaultRates { Transient = 0.03 })
        .With(StoreOperation.List, null, new FaultRates { Transient = 0.03, ListCut = 0.05 });

    /// <summary>Puts and deletes applied whose answer is lost, with a few transient errors.</summary>
    public static FaultProfile LostAnswers { get; } = None.Named("lost-answers")
        .With(null, null, new FaultRates { Transient = 0.005 })
        .With(StoreOperation.Put, null, new FaultRates { Transient = 0.005, AnswerLost = 0.05 })
        .With(StoreOperation.Delete, null, new FaultRates { Transient = 0.005, AnswerLost = 0.05 });

    /// <summary>Conditional puts answered "exists" after storing or without storing.</summary>
    public static FaultProfile FalseExists { get; } = None.Named("false-exists")
        .With(StoreOperation.Put, null, new FaultRates { ExistsAfterStoring = 0.03, ExistsWithoutStoring = 0.03 });

    /// <summary>Puts that land after later requests were answered, with transient errors that make callers retry meanwhile.</summary>
    public static FaultProfile LateCommits { get; } = None.Named("late-commits")
        .With(null, null, new FaultRates { Transient = 0.01 })
        .With(StoreOperation.Put, null, new FaultRates { Transient = 0.01, LateCommit = 0.05 });

    /// <summary>
    /// Only WAL puts misbehave: "exists" after or without storing, late commits, lost answers. Where a WAL object and
    /// the next writer's fence race for one id; no manifest fault gets in the way.
    /// </summary>
    public static FaultProfile WalRaces { get; } = None.Named("wal-races")
        .With(null, null, new FaultRates { Transient = 0.01 })
        .With(StoreOperation.Put, StoreArea.Wal, new FaultRates { ExistsAfterStoring = 0.02, ExistsWithoutStoring = 0.06, LateCommit = 0.06, AnswerLost = 0.02 });

    /// <summary>Slow responses everywhere, a few transient errors.</summary>
    public static FaultProfile Slow { get; } = None.Named("slow")
        .With(null, null, new FaultRates { Slow = 0.2, Transient = 0.005 });

    /// <summary>A little of everything.</summary>
    public static FaultProfile Everything { get; } = None.Named("everything")
        .With(null, null, new FaultRates { Transient = 0.015, AnswerLost = 0.015, Slow = 0.05 })
        .With(StoreOperation.List, null, new FaultRates { Transient = 0.015, ListCut = 0.015, Slow = 0.05 })
        .With(StoreOperation.Put, null, new FaultRates
        {
            Transient = 0.015,
            AnswerLost = 0.015,
            ExistsAfterStoring = 0.015,
            ExistsWithoutStoring = 0.015,
            LateCommit = 0.015,
            Slow = 0.05,
        });

    public static IReadOnlyList<FaultProfile> All { get; } = [Transient, LostAnswers, FalseExists, LateCommits, WalRaces, Slow, Everything];

    public static FaultProfile Named(string name, IEnumerable<FaultProfile>? among = null) =>
        (among ?? All).FirstOrDefault(p => p.Name == name) ?? throw new ArgumentException($"no fault profile named {name}", nameof(name));

    /// <summary>This profile with one more rule (which wins over earlier ones where both match).</summary>
    public FaultProfile With(StoreOperation? operation, StoreArea? area, FaultRates rates)
    {
        if (rates.Total > 1 || rates.Slow > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(rates), rates, "fault probabilities must sum to at most 1");
        }

        return new FaultProfile(Name, [.. _rules, (operation, area, rates)]) { MaxDelay = MaxDelay, MaxLateCommitLag = MaxLateCommitLag };
    }

    /// <summary>This profile with other limits for delays and late commits.</summary>
    public FaultProfile WithLimits(TimeSpan? maxDelay = null, int? maxLateCommitLag = null)
    {
        if (maxLateCommitLag < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLateCommitLag), maxLateCommitLag, "a late commit lands after at least one later answer");
        }

        return new FaultProfile(Name, _rules) { MaxDelay = maxDelay ?? MaxDelay, MaxLateCommitLag = maxLateCommitLag ?? MaxLateCommitLag };
    }

    /// <summary>This profile under another name.</summary>
    public FaultProfile Named(string name) => new(name, _rules) { MaxDelay = MaxDelay, MaxLateCommitLag = MaxLateCommitLag };

    public FaultRates RatesFor(StoreOperation operation, StoreArea area)
    {
        for (var i = _rules.Count - 1; i >= 0; i--)
        {
            var (op, ar, rates) = _rules[i];
            if ((op is null || op == operation) && (ar is null || ar == area))
            {
                return rates;
            }
        }

        return FaultRates.None;
    }

    public override string ToString() => Name;
}
