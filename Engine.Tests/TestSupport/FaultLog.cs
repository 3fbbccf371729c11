using System.Collections.Concurrent;
using System.Text;

namespace SlateSharp.Tests.TestSupport;

/// <summary>What a <see cref="ChaosObjectStore"/> did to a request.</summary>
public enum InjectedFault
{
    /// <summary>503 Service Unavailable, before the request reached the store.</summary>
    Unavailable,

    /// <summary>429 Too Many Requests / SlowDown, before the request reached the store.</summary>
    Throttled,

    /// <summary>A timeout before the request reached the store.</summary>
    TimedOut,

    /// <summary>A reset connection, before the request reached the store.</summary>
    ConnectionReset,

    /// <summary>The put or delete was applied; the caller saw a timeout.</summary>
    AnswerLost,

    /// <summary>The create-if-absent stored; the caller saw "already exists".</summary>
    ExistsAfterStoring,

    /// <summary>The conditional put stored nothing; the caller saw "already exists" (or "version mismatch").</summary>
    ExistsWithoutStoring,

    /// <summary>The put answered a timeout at once and was applied later.</summary>
    LateCommit,

    /// <summary>The listing failed part-way through.</summary>
    ListCut,

    /// <summary>The request was delayed.</summary>
    Slow,

    /// <summary>A permanent failure answered the request.</summary>
    Permanent,
}

/// <summary>
/// Every fault a <see cref="ChaosObjectStore"/> injected, in the order it decided them, with notes the test adds
/// (what it was doing), so a failure message shows what the store did around the moment things went wrong. Keeps the
/// last <see cref="Capacity"/> entries (a store broken for good can answer millions of requests); counts are kept whole.
/// </summary>
public sealed class FaultLog
{
    public const int Capacity = 20_000;

    private readonly ConcurrentQueue<string> _entries = new();
    private readonly ConcurrentDictionary<InjectedFault, int> _counts = new();
    private long _next;

    public int Count(InjectedFault fault) => _counts.GetValueOrDefault(fault);

    /// <summary>Faults injected, of every kind except <see cref="InjectedFault.Slow"/>.</summary>
    public int Faults => _counts.Where(kv => kv.Key != InjectedFault.Slow).Sum(kv => kv.Value);

    public IReadOnlyList<string> Entries => _entries.ToArray();

    public void Add(long request, InjectedFault fault, StoreOperation operation, string path, string? detail = null)
    {
        _counts.AddOrUpdate(fault, 1, (_, n) => n + 1);
        Append($"request {request}: {operation.ToString().ToLowerInvariant()} {path}: {Name(fault)}{(detail is null ? "" : " (" + detail + ")")}");
    }

    /// <summary>Something that is not a fault but explains the ones around it (a late commit landing, a test step).</summary>
    public void Note(string text) => Append(text);

    /// <summary>Counts by kind, e.g. <c>answer-lost=3 late-commit=1</c>.</summary>
    public string Summary() =>
        _counts.IsEmpty ? "no faults injected" : string.Join(" ", _counts.OrderBy(kv => kv.Key).Select(kv => $"{Name(kv.Key)}={kv.Value}"));

    /// <summary>The last <paramref name="lines"/> entries, one per line.</summary>
    public string Tail(int lines)
    {
        var all = _entries.ToArray();
        var builder = new StringBuilder();
        if (all.Length > lines)
        {
            builder.Append("  … ").Append(Interlocked.Read(ref _next) - lines).AppendLine(" earlier entries");
        }

        foreach (var entry in all.Skip(Math.Max(0, all.Length - lines)))
        {
            builder.Append("  ").AppendLine(entry);
        }

        return builder.ToString();
    }

    public static string Name(InjectedFault fault) => fault switch
    {
        InjectedFault.Unavailable => "503",
        InjectedFault.Throttled => "429",
        InjectedFault.TimedOut => "timeout",
        InjectedFault.ConnectionReset => "reset",
        InjectedFault.AnswerLost => "answer-lost",
        InjectedFault.ExistsAfterStoring => "exists-after-storing",
        InjectedFault.ExistsWithoutStoring => "exists-without-storing",
        InjectedFault.LateCommit => "late-commit",
        InjectedFault.ListCut => "list-cut",
        InjectedFault.Slow => "slow",
        InjectedFault.Permanent => "permanent",
        _ => fault.ToString(),
    };

    private void Append(string text)
    {
        _entries.Enqueue($"#{Interlocked.Increment(ref _next)} {text}");
        while (_entries.Count > Capacity && _entries.TryDequeue(out _))
        {
        }
    }
}
