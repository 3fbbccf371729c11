using System.Diagnostics;
using System.Globalization;
using System.Text;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// Runs kill cycles on one store: start the child, kill it (or let it kill itself at a crash point), reopen the
/// database as a new writer, check what it shows against the ack log (<see cref="KillChecker"/>), and carry the state
/// read back into the next cycle as its baseline. A database serves <see cref="CyclesPerDatabase"/> cycles, then the
/// next one starts empty, so that the cost of a cycle stays flat in long runs (there is no compaction yet: every
/// memtable flush adds an L0 SST that each reopen reads).
/// </summary>
internal sealed class KillRun(CrashStore store, int seed, CrashWorkload workload, TestDirectory logs) : IAsyncDisposable
{
    public const int CyclesPerDatabase = 15;

    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan ReopenTimeout = TimeSpan.FromMinutes(3);
    private readonly Dictionary<string, byte[]> _baseline = new(StringComparer.Ordinal);
    private string? _database;

    public KillRunStats Stats { get; } = new();

    public async Task CycleAsync(KillPlan plan)
    {
        var started = Stopwatch.GetTimestamp();
        if (plan.Cycle % CyclesPerDatabase == 0)
        {
            if (_database is not null)
            {
                await store.DeleteAsync(_database);
            }

            _database = $"db-{plan.Cycle / CyclesPerDatabase:D5}";
            _baseline.Clear();
        }

        var args = ChildArgs(plan);
        var history = await RunChildAsync(plan, args);
        var childDone = Stopwatch.GetTimestamp();

        var parentSeed = plan.ChildSeed ^ 0x5EED;
        Dictionary<string, byte[]> recovered;
        int l0;
        try
        {
            using var timeout = new CancellationTokenSource(ReopenTimeout);
            var db = await SlateSharp.Db.OpenAsync(args.Url, args.DbOptions(parentSeed), timeout.Token);
            recovered = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            await foreach (var row in db.ScanAsync(default, default, cancellationToken: timeout.Token))
            {
                recovered[Encoding.ASCII.GetString(row.Key.Span)] = row.Value.ToArray();
            }

            l0 = db.Manifest.Manifest.L0.Count;

            // Close (flushing what was replayed to L0) or drop it as a crash would: both leave a state the next cycle builds on.
            if (new Random(parentSeed).Next(3) == 0)
            {
                await db.SimulateCrashAsync();
            }
            else
            {
                await db.CloseAsync();
            }
        }
        catch (Exception e) when (e is not AssertionException)
        {
            Fail(plan, history, $"reopening the database after the kill failed: {e}");
            throw;
        }

        var result = KillChecker.Check(plan.Cycle, history, _baseline, recovered);
        if (!result.Passed)
        {
            Fail(plan, history, $"{result.Violations.Count} violation(s):" + Environment.NewLine + string.Join(Environment.NewLine, result.Violations.Take(12)));
        }

        _baseline.Clear();
        foreach (var (key, value) in recovered)
        {
            _baseline[key] = value;
        }

        Stats.Add(history, result, recovered.Count, l0, Stopwatch.GetElapsedTime(started), Stopwatch.GetElapsedTime(childDone));
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await store.DeleteAsync(_database);
        }
    }

    private CrashChildArgs ChildArgs(KillPlan plan)
    {
        var prefill = workload == CrashWorkload.Prefill;
        return new CrashChildArgs
        {
            Url = store.Url(_database!),
            S3Endpoint = store.S3Endpoint,
            LogPath = Path.Combine(logs.Path, string.Create(CultureInfo.InvariantCulture, $"{store.Name}-{workload}-cycle-{plan.Cycle:D5}.log")),
            Seed = plan.ChildSeed,
            Cycle = plan.Cycle,
            Workload = workload,
            CloseAfterOps = plan.CloseAfterOps,
            FlushIntervalMs = store.FlushIntervalMs,
            MemtableBytes = prefill ? 256 << 10 : 32 << 10,
            WalObjectBytes = prefill ? 256 << 10 : 64 << 10,
            MaxUnflushedBytes = prefill ? 2 << 20 : 1 << 20,
        };
    }

    private async Task<CrashHistory> RunChildAsync(KillPlan plan, CrashChildArgs args)
    {
        using var child = CrashChildProcess.Start(args, plan.CrashPointSpec);
        if (plan.Delay is { } delay)
        {
            if (!plan.DelayFromStart)
            {
                var exited = child.WaitForExitAsync(OpenTimeout);
                if (await Task.WhenAny(child.Opened, exited) != child.Opened)
                {
                    await child.KillAsync();
                    Fail(plan, CrashHistory.Read(args.LogPath), $"the child did not open the database within {OpenTimeout.TotalSeconds} s (exit code {child.ExitCode}):{Environment.NewLine}{child.Output}");
                }
            }

            await Task.Delay(delay);
            await child.KillAsync();
        }
        else if (!await child.WaitForExitAsync(TimeSpan.FromSeconds(args.MaxRunSeconds + 30)))
        {
            await child.KillAsync();
            Fail(plan, CrashHistory.Read(args.LogPath), $"the child neither reached its crash point nor closed and exited:{Environment.NewLine}{child.Output}");
        }

        var history = CrashHistory.Read(args.LogPath);
        if (!child.Killed && child.ExitCode != 0)
        {
            Fail(plan, history, $"the child failed with exit code {child.ExitCode}:{Environment.NewLine}{child.Output}");
        }

        if (plan.Point is not null && history.CrashPoint != $"{plan.Point} {plan.PointCount}")
        {
            Fail(plan, history, $"the child was to kill itself at crash point {plan.CrashPointSpec}, but it ended with exit code {child.ExitCode}:{Environment.NewLine}{child.Output}");
        }

        if (plan.Delay is null && plan.Point is null && (child.ExitCode != 0 || !history.Ops.Any(o => o.Kind == OpKind.Close && o.Ack is not null)))
        {
            Fail(plan, history, $"the child was to close the database and exit, but it ended with exit code {child.ExitCode}:{Environment.NewLine}{child.Output}");
        }

        return history;
    }

    private void Fail(KillPlan plan, CrashHistory history, string what)
    {
        var message = new StringBuilder();
        message.AppendLine(CultureInfo.InvariantCulture, $"process kill test: store={store.Name} workload={workload} seed={seed} cycle={plan.Cycle} database={_database}");
        message.AppendLine(CultureInfo.InvariantCulture, $"  plan: {plan}");
        message.AppendLine(CultureInfo.InvariantCulture, $"  replay: SLATESHARP_TEST_SEED={seed} (cycles {plan.Cycle - (plan.Cycle % CyclesPerDatabase)}..{plan.Cycle} built this database; kill timing is real time, so a replay is close, not exact)");
        message.AppendLine(CultureInfo.InvariantCulture, $"  child: {history.Lines.Count} log lines, {history.Acknowledged} acknowledged, {(history.CrashPoint is { } point ? "killed itself at " + point : "no crash point")}; logs kept in {logs.Path}");
        message.AppendLine(what);
        message.AppendLine("last lines of the ack log:");
        foreach (var (line, i) in history.Lines.Select((l, i) => (l, i)).TakeLast(25))
        {
            message.AppendLine(CultureInfo.InvariantCulture, $"  {i,6}: {line}");
        }

        Stats.Failed = true;
        Assert.Fail(message.ToString());
    }
}

/// <summary>Figures of a kill run, for the test output and docs/reliability.md.</summary>
internal sealed class KillRunStats
{
    private readonly List<double> _cycleSeconds = [];
    private readonly List<double> _checkSeconds = [];

    public bool Failed { get; set; }

    public int Cycles => _cycleSeconds.Count;

    public HashSet<string> PointsReached { get; } = [];

    public long Acknowledged { get; private set; }

    public long Required { get; private set; }

    /// <summary>Cycles where some acknowledged writes were not yet required (the kill took unflushed memtable acknowledgements with it).</summary>
    public int CyclesWithUnrequiredAcks { get; private set; }

    public int CleanCloses { get; private set; }

    public int MaxL0 { get; private set; }

    public int MaxKeys { get; private set; }

    public void Add(CrashHistory history, KillCheckResult result, int keys, int l0, TimeSpan cycle, TimeSpan check)
    {
        _cycleSeconds.Add(cycle.TotalSeconds);
        _checkSeconds.Add(check.TotalSeconds);
        if (history.CrashPoint is { } point)
        {
            PointsReached.Add(point.Split(' ')[0]);
        }

        var writes = history.Ops.Count(o => AckLog.IsWrite(o.Kind) && o.Ack is not null);
        Acknowledged += writes;
        Required += result.Required;
        if (writes > result.Required)
        {
            CyclesWithUnrequiredAcks++;
        }

        if (history.Ops.Any(o => o.Kind == OpKind.Close && o.Ack is not null))
        {
            CleanCloses++;
        }

        MaxL0 = Math.Max(MaxL0, l0);
        MaxKeys = Math.Max(MaxKeys, keys);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Cycles} cycles, {_cycleSeconds.Sum():F1} s ({Average(_cycleSeconds):F2} s per cycle, max {Max(_cycleSeconds):F2} s; reopen and check {Average(_checkSeconds):F2} s); ") +
        string.Create(CultureInfo.InvariantCulture, $"{Acknowledged} acknowledged writes, {Required} required after their kill, {CyclesWithUnrequiredAcks} cycles lost unflushed memtable acknowledgements (allowed); ") +
        string.Create(CultureInfo.InvariantCulture, $"{CleanCloses} clean closes; up to {MaxL0} L0 SSTs and {MaxKeys} keys; crash points reached: {string.Join(", ", PointsReached.Order())}");

    private static double Average(List<double> values) => values.Count == 0 ? 0 : values.Average();

    private static double Max(List<double> values) => values.Count == 0 ? 0 : values.Max();
}
