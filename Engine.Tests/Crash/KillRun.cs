using System.Diagnostics;
using System.Globalization;
using System.Text;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// Runs kill cycles on one store: start the child, kill it (or let it kill itself at a crash point), reopen the
/// database as a new writer, check what it shows against the ack log (<see cref="KillChecker"/>), and carry the state
/// read back into the next cycle as its baseline. A database serves <paramref name="cyclesPerDatabase"/> cycles, then
/// the next one starts empty, so that the cost of a cycle stays flat in long runs (there is no compaction yet: every
/// memtable flush adds an L0 SST that each reopen reads).
/// </summary>
internal sealed class KillRun(CrashStore store, int seed, CrashWorkload workload, int cyclesPerDatabase, TestDirectory logs) : IAsyncDisposable
{
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan ReopenTimeout = TimeSpan.FromMinutes(3);
    private readonly Dictionary<string, byte[]> _baseline = new(StringComparer.Ordinal);
    private string? _database;
    private int _databaseFirstCycle;
    private bool _startOver;

    public KillRunStats Stats { get; } = new();

    public async Task CycleAsync(KillPlan plan)
    {
        var started = Stopwatch.GetTimestamp();
        if (_database is null || _startOver || plan.Cycle - _databaseFirstCycle >= cyclesPerDatabase)
        {
            await StartNewDatabaseAsync(plan.Cycle);
        }

        var args = ChildArgs(plan);
        var problems = new List<string>();
        CrashHistory history;
        ReadBack state;
        string output;
        long checkStarted;
        using (var child = CrashChildProcess.Start(args, plan.CrashPointSpec))
        {
            await EndChildAsync(plan, args, child, problems);
            checkStarted = Stopwatch.GetTimestamp();
            var reopen = ReopenAsync(plan, args);
            if (plan.Kind == KillKind.Takeover)
            {
                // The new writer fences the child, which may still be writing; the kill lands during or after that open.
                if (plan.KillDuringTakeover is { } kill)
                {
                    await Task.WhenAny(reopen, Task.Delay(kill));
                }
                else
                {
                    await reopen;
                }

                await child.KillAsync();
            }

            state = await reopen;
            history = CrashHistory.Read(args.LogPath);
            CheckHowChildEnded(plan, child, history, problems);
            output = child.Output;
        }

        KillCheckResult? result = null;
        if (state.Error is { } error)
        {
            problems.Add($"reopening the database after the kill failed: {error}");
        }
        else
        {
            result = KillChecker.Check(plan.Cycle, history, _baseline, state.Rows);
            if (!result.Passed)
            {
                problems.Add($"{result.Violations.Count} violation(s):" + Environment.NewLine + string.Join(Environment.NewLine, result.Violations.Take(12)));
            }
        }

        if (problems.Count > 0)
        {
            throw new KillCycleException(Describe(plan, history, problems, output));
        }

        _baseline.Clear();
        foreach (var (key, value) in state.Rows)
        {
            _baseline[key] = value;
        }

        // Only a failing cycle's log is worth keeping: a soak of thousands of cycles would otherwise fill the disk.
        File.Delete(args.LogPath);

        Stats.Add(plan, history, result!, state.Rows.Count, state.L0, Stopwatch.GetElapsedTime(started), Stopwatch.GetElapsedTime(checkStarted));
    }

    /// <summary>After a failed cycle: the next cycle starts on a new, empty database (the old one is kept for inspection).</summary>
    public void StartOver() => _startOver = true;

    public async ValueTask DisposeAsync()
    {
        if (_database is not null && !_startOver)
        {
            await store.DeleteAsync(_database);
        }
    }

    private async Task StartNewDatabaseAsync(int cycle)
    {
        if (_database is not null && !_startOver)
        {
            await store.DeleteAsync(_database);
        }

        _startOver = false;
        _database = string.Create(CultureInfo.InvariantCulture, $"db-{cycle:D6}");
        _databaseFirstCycle = cycle;
        _baseline.Clear();
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
            ConcurrentClose = plan.ConcurrentClose,
            FlushIntervalMs = store.FlushIntervalMs,
            MemtableBytes = prefill ? 256 << 10 : 32 << 10,
            WalObjectBytes = prefill ? 256 << 10 : 64 << 10,
            MaxUnflushedBytes = prefill ? 2 << 20 : 1 << 20,
        };
    }

    /// <summary>
    /// Kills the child as the plan says, or waits for it to kill itself or exit; a takeover only waits for the moment
    /// to open. What went wrong goes to <paramref name="problems"/>: the new writer reopens and checks all the same.
    /// </summary>
    private static async Task EndChildAsync(KillPlan plan, CrashChildArgs args, CrashChildProcess child, List<string> problems)
    {
        if (plan.Kind is KillKind.Delay or KillKind.Takeover)
        {
            if (!plan.DelayFromStart)
            {
                var exited = child.WaitForExitAsync(OpenTimeout);
                if (await Task.WhenAny(child.Opened, exited) != child.Opened)
                {
                    await child.KillAsync();
                    problems.Add($"the child did not open the database within {OpenTimeout.TotalSeconds} s (exit code {child.ExitCode})");
                    return;
                }
            }

            await Task.Delay(plan.Delay);
            if (plan.Kind == KillKind.Delay)
            {
                await child.KillAsync();
            }
        }
        else if (!await child.WaitForExitAsync(TimeSpan.FromSeconds(args.MaxRunSeconds + 30)))
        {
            await child.KillAsync();
            problems.Add($"the child neither reached its crash point nor closed and exited");
        }
    }

    private static void CheckHowChildEnded(KillPlan plan, CrashChildProcess child, CrashHistory history, List<string> problems)
    {
        if (!child.Killed && child.ExitCode != 0)
        {
            problems.Add($"the child failed with exit code {child.ExitCode}");
        }

        if (plan.Kind == KillKind.CrashPoint && history.CrashPoint != $"{plan.Point} {plan.PointCount}")
        {
            problems.Add($"the child was to kill itself at crash point {plan.CrashPointSpec}, but it ended with exit code {child.ExitCode}");
        }

        if (plan.Kind == KillKind.Close && (child.ExitCode != 0 || !history.Ops.Any(o => o.Kind == OpKind.Close && o.Ack is not null)))
        {
            problems.Add($"the child was to close the database and exit, but it ended with exit code {child.ExitCode}");
        }

        if (plan.Kind != KillKind.Takeover && history.Ops.FirstOrDefault(o => o.Error?.Contains("Closed/Fenced", StringComparison.Ordinal) == true) is { } fenced)
        {
            problems.Add($"the child was fenced, but no other writer opened the database: {fenced}");
        }
    }

    /// <summary>Opens the database as a new writer and reads every row; closes it or drops it as a crash would.</summary>
    private static async Task<ReadBack> ReopenAsync(KillPlan plan, CrashChildArgs args)
    {
        await Task.Yield();
        var parentSeed = plan.ChildSeed ^ 0x5EED;
        try
        {
            using var timeout = new CancellationTokenSource(ReopenTimeout);
            var db = await SlateSharp.Db.OpenAsync(args.Url, args.DbOptions(parentSeed), timeout.Token);
            var rows = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            await foreach (var row in db.ScanAsync(KeyRange.All, cancellationToken: timeout.Token))
            {
                rows[Encoding.ASCII.GetString(row.Key.Span)] = row.Value.ToArray();
            }

            var l0 = db.Manifest.Manifest.L0.Count;

            // Close (flushing what was replayed to L0) or drop it as a crash would: both leave a state the next cycle builds on.
            if (new Random(parentSeed).Next(3) == 0)
            {
                await db.SimulateCrashAsync();
            }
            else
            {
                await db.CloseAsync();
            }

            return new ReadBack(rows, l0, null);
        }
        catch (Exception e)
        {
            return new ReadBack([], 0, e);
        }
    }

    private string Describe(KillPlan plan, CrashHistory history, List<string> problems, string output)
    {
        var message = new StringBuilder();
        message.AppendLine(CultureInfo.InvariantCulture, $"process kill test: store={store.Name} workload={workload} seed={seed} cycle={plan.Cycle} database={_database}");
        message.AppendLine(CultureInfo.InvariantCulture, $"  plan: {plan}");
        message.AppendLine(CultureInfo.InvariantCulture, $"  replay: SLATESHARP_TEST_SEED={seed} (cycles {_databaseFirstCycle}..{plan.Cycle} built this database; kill timing is real time, so a replay is close, not exact)");
        message.AppendLine(CultureInfo.InvariantCulture, $"  child: {history.Lines.Count} log lines, {history.Acknowledged} acknowledged, {(history.CrashPoint is { } point ? "killed itself at " + point : "no crash point")}; ack log kept: {history.Path}");
        foreach (var problem in problems)
        {
            message.AppendLine(problem);
        }

        message.AppendLine("last lines of the ack log:");
        foreach (var (line, i) in history.Lines.Select((l, i) => (l, i)).TakeLast(25))
        {
            message.AppendLine(CultureInfo.InvariantCulture, $"  {i,6}: {line}");
        }

        message.AppendLine("last lines the child printed (its engine log at debug level):");
        message.AppendLine(output);

        return message.ToString();
    }
}

/// <summary>A kill cycle found a problem: a loss, a failed child or a failed reopen. The message says everything known.</summary>
internal sealed class KillCycleException(string message) : Exception(message);

/// <summary>What the new writer read back: every row, its L0 size, or why it could not.</summary>
internal sealed record ReadBack(Dictionary<string, byte[]> Rows, int L0, Exception? Error);

/// <summary>Figures of a kill run, for the test output and docs/reliability.md.</summary>
internal sealed class KillRunStats
{
    private readonly List<double> _cycleSeconds = [];
    private readonly List<double> _checkSeconds = [];

    public int Cycles => _cycleSeconds.Count;

    public HashSet<string> PointsReached { get; } = [];

    public long Acknowledged { get; private set; }

    public long Required { get; private set; }

    /// <summary>Cycles where some acknowledged writes were not yet required (the kill took unflushed memtable acknowledgements with it).</summary>
    public int CyclesWithUnrequiredAcks { get; private set; }

    public int CleanCloses { get; private set; }

    public int MaxL0 { get; private set; }

    public int MaxKeys { get; private set; }

    public Dictionary<KillKind, int> CyclesByKind { get; } = [];

    public void Add(KillPlan plan, CrashHistory history, KillCheckResult result, int keys, int l0, TimeSpan cycle, TimeSpan check)
    {
        CyclesByKind[plan.Kind] = CyclesByKind.GetValueOrDefault(plan.Kind) + 1;
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
        string.Create(CultureInfo.InvariantCulture, $"{CleanCloses} clean closes; cycles by kind: {string.Join(", ", CyclesByKind.Select(k => $"{k.Key} {k.Value}"))}; up to {MaxL0} L0 SSTs and {MaxKeys} keys; crash points reached: {string.Join(", ", PointsReached.Order())}");

    private static double Average(List<double> values) => values.Count == 0 ? 0 : values.Average();

    private static double Max(List<double> values) => values.Count == 0 ? 0 : values.Max();
}
