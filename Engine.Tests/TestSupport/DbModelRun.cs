using System.Globalization;
using System.Text;
using SlateSharp.Storage;
using Database = SlateSharp.Db;

namespace SlateSharp.Tests.TestSupport;

/// <summary>One thing a <see cref="DbModelRun"/> found wrong. Hard findings end the run; soft ones are counted and it goes on.</summary>
public sealed record ModelFinding(bool Hard, string Category, string Detail, int Operation, string FaultLogTail)
{
    public int Occurrences { get; set; } = 1;
}

/// <summary>
/// A seeded random workload (puts, deletes and batches acknowledged durably or in the memtable, gets, scans, WAL and
/// memtable flushes, clean closes and crashes with reopens) on one <see cref="Database"/>, checked against a
/// <see cref="DurabilityModel"/>: every read while open against the current model, the whole state after every reopen
/// against the prefixes the acknowledgements allow. Every call is bounded in time.
/// </summary>
/// <remarks>
/// Strict (no <see cref="Chaos"/>): any error is a finding and reopens are clean, so every reopen must show every write.
/// Under faults: a write, flush or close may fail with a typed transient error; the database must then refuse further
/// writes, is closed (the close must answer, typed; a quarter of closes are DisposeAsync, which must not throw) and
/// reopened, half the time with faults suspended, otherwise with faults for up to three attempts. The recovered state is then scanned with faults suspended and checked. A read may
/// fail with a transient error and the run goes on. What is a finding: a read or recovered state the model does not
/// allow; a call that does not finish within <see cref="CallBound"/>; an error that is not a
/// <see cref="SlateSharpException"/> or (anywhere in its chain) is Data, Invalid or Internal, or says "fenced" when no
/// other writer exists; an open that fails without faults; a failed write after which the database accepts writes;
/// a DisposeAsync that throws.
/// </remarks>
public sealed class DbModelRun
{
    private const int KeySpace = 400;
    private static readonly ReadOnlyMemory<byte> ProbeKey = "probe-after-failure"u8.ToArray();
    private readonly List<ModelFinding> _findings = [];
    private readonly DurabilityModel _model = new();
    private Random _random = null!;
    private int _op;
    private string? _faultsAtStop;

    /// <summary>What <see cref="Database.OpenAsync(IObjectStore, string, DbOptions?, CancellationToken)"/> is given: the chaos store, a decorator over it, or a plain store.</summary>
    public required IObjectStore Store { get; init; }

    public ChaosObjectStore? Chaos { get; init; }

    public required DbOptions Options { get; init; }

    /// <summary>
    /// Options that make a short run exercise everything: tiny memtables, WAL objects and blocks, a 2 ms WAL interval;
    /// <paramref name="retryTimeouts"/>, when given, bounds manifest updates and write retries.
    /// </summary>
    public static DbOptions SmallOptions(int seed, TimeSpan? retryTimeouts = null, bool compaction = true, GcOptions? gc = null) => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(2),
        MemtableSizeBytes = 16 << 10,
        MaxUnflushedBytes = 256 << 10,
        WalObjectMaxBytes = 8 << 10,
        BlockSizeBytes = 512,
        L0MaxSsts = compaction ? 8 : 100_000,
        Compaction = new CompactionOptions { Enabled = compaction, TargetSstBytes = 8 << 10, MaxSubcompactions = 3, PollInterval = TimeSpan.FromMilliseconds(20), ReadaheadBytes = 4096 },
        ManifestPollInterval = TimeSpan.FromMilliseconds(50),
        ManifestUpdateTimeout = retryTimeouts ?? TimeSpan.FromMinutes(1),
        WriteRetryTimeout = retryTimeouts ?? TimeSpan.FromMinutes(1),
        RandomSeed = seed,
        GarbageCollection = gc,
    };

    public required int Seed { get; init; }

    public int Operations { get; init; } = 1000;

    /// <summary>The longest any one call may take: a generous bound, not a timing assumption.</summary>
    public TimeSpan CallBound { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Share of reopens that crash the database (drop the memtable) instead of closing it.</summary>
    public double CrashShare { get; init; }

    public IReadOnlyList<ModelFinding> Findings => _findings;

    public int Reopens { get; private set; }

    public int Crashes { get; private set; }

    public int ToleratedFailures { get; private set; }

    public int DurableAcknowledgements { get; private set; }

    public int Writes { get; private set; }

    /// <summary>Compaction jobs the embedded compactors published, over every open of the run.</summary>
    public long CompactionJobs { get; private set; }

    private bool Strict => Chaos is null;

    private bool Stopped => _findings.Any(f => f.Hard);

    public async Task RunAsync()
    {
        _random = new Random(Seed);
        var db = await ReopenAsync(null, clean: true);
        try
        {
            for (_op = 0; _op < Operations && db is not null && !Stopped; _op++)
            {
                var choice = _random.Next(100);
                db = choice switch
                {
                    < 35 => await PutAsync(db),
                    < 45 => await DeleteAsync(db),
                    < 52 => await BatchAsync(db),
                    < 82 => await GetAsync(db),
                    < 92 => await ScanAsync(db),
                    < 96 => await FlushAsync(db, FlushKind.Wal),
                    < 99 => await FlushAsync(db, FlushKind.Memtable),
                    _ => await ReopenAsync(db, clean: _random.NextDouble() >= CrashShare),
                };
            }

            if (db is not null && !Stopped)
            {
                Note("final close and reopen");
                db = await ReopenAsync(db, clean: true);
            }
        }
        finally
        {
            if (Stopped)
            {
                // Stop whatever the engine may still be doing (a hang, a retry loop) from touching the store.
                Chaos?.BreakPermanently();
                Chaos?.DropLateCommits();
            }

            if (db is not null)
            {
                await CloseQuietlyAsync(db);
            }
        }
    }

    /// <summary>Every finding, with the seed and how to replay it; empty when there were none.</summary>
    public string Report(string title)
    {
        if (_findings.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder()
            .Append(title).Append(": ").Append(_findings.Count).Append(" finding(s); seed=").Append(Seed)
            .Append(" (SLATESHARP_TEST_SEED=").Append(Seed).AppendLine(" replays its operations and fault decisions; task timing may still differ)");
        foreach (var finding in _findings)
        {
            text.Append(finding.Hard ? "[stop] " : "[goes on] ").Append(finding.Category).Append(" at op ").Append(finding.Operation)
                .Append(finding.Occurrences > 1 ? $" ({finding.Occurrences} times, the first shown)" : "").AppendLine(":")
                .AppendLine(finding.Detail);
            if (finding.FaultLogTail.Length > 0)
            {
                text.AppendLine("fault log up to then:").Append(finding.FaultLogTail);
            }
        }

        return text.Append("faults injected: ").AppendLine(_faultsAtStop ?? Chaos?.Log.Summary() ?? "none").ToString();
    }

    public string Summary() =>
        $"ops={_op} writes={Writes} durable_acks={DurableAcknowledgements} reopens={Reopens} crashes={Crashes} tolerated_failures={ToleratedFailures} compactions={CompactionJobs} " +
        $"faults: {_faultsAtStop ?? Chaos?.Log.Summary() ?? "none"}";

    private async Task<Database?> PutAsync(Database db)
    {
        var (key, value) = (Key(), Value());
        var durable = _random.Next(10) == 0;
        return await WriteAsync(db, $"put {key}={Short(value)}", [(key, value)], durable,
            () => db.PutAsync(Bytes(key), Bytes(value), durable ? WriteOptions.Default : WriteOptions.NoWait));
    }

    private async Task<Database?> DeleteAsync(Database db)
    {
        var key = Key();
        var durable = _random.Next(20) == 0;
        return await WriteAsync(db, $"delete {key}", [(key, null)], durable,
            () => db.DeleteAsync(Bytes(key), durable ? WriteOptions.Default : WriteOptions.NoWait));
    }

    private async Task<Database?> BatchAsync(Database db)
    {
        var batch = new WriteBatch();
        var changes = new List<(string Key, string? Value)>();
        for (var i = _random.Next(1, 8); i > 0; i--)
        {
            var key = Key();
            var value = _random.Next(4) == 0 ? null : Value();
            _ = value is null ? batch.Delete(Bytes(key).Span) : batch.Put(Bytes(key).Span, Bytes(value).Span);
            changes.Add((key, value));
        }

        var durable = _random.Next(10) == 0;
        return await WriteAsync(db, $"batch of {changes.Count} ({string.Join(", ", changes.Select(c => c.Value is null ? c.Key + " deleted" : c.Key + "=" + Short(c.Value)))})",
            changes, durable, () => db.WriteAsync(batch, durable ? WriteOptions.Default : WriteOptions.NoWait));
    }

    private async Task<Database?> WriteAsync(Database db, string what, IReadOnlyList<(string Key, string? Value)> changes, bool durable, Func<ValueTask> write)
    {
        var description = $"op {_op}: {what}{(durable ? " (await durable)" : " (no wait)")}";
        var number = _model.Begin(description, changes);
        Writes++;
        try
        {
            await BoundAsync(write);
            _model.Acknowledged(number, durable);
            DurableAcknowledgements += durable ? 1 : 0;
            return db;
        }
        catch (Exception e)
        {
            _model.Failed(number, e);
            if (!Tolerate(e, description))
            {
                return db;
            }

            await ExpectRefusedWritesAsync(db, description);
            return Stopped ? db : await ReopenAsync(db, clean: true);
        }
    }

    /// <summary>A failed write ends the database's life; if it still took writes, "maybe applied" would not be a suffix.</summary>
    private async Task ExpectRefusedWritesAsync(Database db, string failed)
    {
        try
        {
            await BoundAsync(() => db.PutAsync(ProbeKey, ProbeKey, WriteOptions.NoWait));
            Hard("accepted a write after a failed write", $"after `{failed}` failed, a new write was acknowledged: an earlier write's outcome is open while later ones succeed");
        }
        catch (SlateSharpException e) when (e.Kind == ErrorKind.Closed)
        {
        }
        catch (Exception e)
        {
            Tolerate(e, "probe write after a failed write");
        }
    }

    private async Task<Database?> GetAsync(Database db)
    {
        var key = Key();
        var what = $"op {_op}: get {key}";
        try
        {
            var got = await BoundAsync(() => db.GetAsync(Bytes(key)));
            var actual = got is null ? null : Encoding.UTF8.GetString(got);
            var expected = _model.Current.GetValueOrDefault(key);
            if (actual != expected)
            {
                Hard("wrong read while open", $"{what} returned {Show(actual)}, the model holds {Show(expected)}");
            }

            return db;
        }
        catch (Exception e)
        {
            return await AfterReadFailureAsync(db, e, what);
        }
    }

    private async Task<Database?> ScanAsync(Database db)
    {
        var (start, end) = Range();
        var what = $"op {_op}: scan [{start ?? "-inf"}, {end ?? "+inf"})";
        try
        {
            var scanned = await BoundAsync(() => ScanAllAsync(db, start, end));
            var expected = _model.Current
                .Where(kv => (start is null || string.CompareOrdinal(kv.Key, start) >= 0) && (end is null || string.CompareOrdinal(kv.Key, end) < 0))
                .Select(kv => (kv.Key, kv.Value)).ToList();
            if (!scanned.SequenceEqual(expected))
            {
                var row = Enumerable.Range(0, Math.Min(scanned.Count, expected.Count)).FirstOrDefault(i => scanned[i] != expected[i], Math.Min(scanned.Count, expected.Count));
                string At(List<(string Key, string Value)> rows) => row < rows.Count ? $"{rows[row].Key}={Show(rows[row].Value)}" : "the end";
                Hard("wrong scan while open",
                    $"{what} returned {scanned.Count} rows, the model holds {expected.Count}; first difference at row {row}: {At(scanned)} where the model has {At(expected)}");
            }

            return db;
        }
        catch (Exception e)
        {
            return await AfterReadFailureAsync(db, e, what);
        }
    }

    private async Task<Database?> AfterReadFailureAsync(Database db, Exception error, string what)
    {
        if (!Tolerate(error, what))
        {
            return db;
        }

        // A transient read failure leaves the database open; a closed one is reopened.
        return error is SlateSharpException { Kind: ErrorKind.Closed } ? await ReopenAsync(db, clean: true) : db;
    }

    private async Task<Database?> FlushAsync(Database db, FlushKind kind)
    {
        var what = $"op {_op}: flush {kind.ToString().ToLowerInvariant()}";
        try
        {
            await BoundAsync(() => db.FlushAsync(new FlushOptions { Kind = kind }));
            _model.AllDurable();
            return db;
        }
        catch (Exception e)
        {
            return Tolerate(e, what) ? await ReopenAsync(db, clean: true) : db;
        }
    }

    /// <summary>Closes (or crashes) <paramref name="db"/> if given, opens the database again and checks its whole state.</summary>
    private async Task<Database?> ReopenAsync(Database? db, bool clean)
    {
        if (db is not null)
        {
            Reopens++;
            CompactionJobs += db.CompactionStats?.Jobs ?? 0;
            var dispose = clean && !Strict && _random.Next(4) == 0;
            Note(dispose ? "dispose" : clean ? "close" : "crash");
            if (dispose)
            {
                // Releases without reporting a fenced or failed database, so it says nothing about durability.
                try
                {
                    await BoundAsync(db.DisposeAsync);
                }
                catch (Exception e)
                {
                    if (!Tolerate(e, $"op {_op}: dispose"))
                    {
                        return null;
                    }

                    Soft("DisposeAsync threw", $"op {_op}: dispose (documented: a fenced or failed database is released without throwing): {Describe(e)}");
                }
            }
            else if (clean)
            {
                try
                {
                    await BoundAsync(() => db.CloseAsync());
                    _model.AllDurable();
                }
                catch (Exception e)
                {
                    if (!Tolerate(e, $"op {_op}: close"))
                    {
                        return null;
                    }
                }
            }
            else
            {
                Crashes++;
                await BoundAsync(() => new ValueTask(db.SimulateCrashAsync()));
            }
        }

        Database? opened = null;
        for (var attempt = 1; opened is null; attempt++)
        {
            var faulty = !Strict && attempt <= 3 && _random.Next(2) == 0;
            SetSuspended(!faulty);
            Note($"open (attempt {attempt}, {(faulty ? "with faults" : "faults suspended")})");
            try
            {
                opened = await BoundAsync(() => Database.OpenAsync(Store, "db", Options));
            }
            catch (Exception e)
            {
                if (!Tolerate(e, $"op {_op}: open (attempt {attempt})"))
                {
                    return null;
                }

                if (!faulty)
                {
                    Hard("open failed without faults", Describe(e));
                    return null;
                }
            }
        }

        SetSuspended(true);
        try
        {
            var state = await BoundAsync(() => ScanAllAsync(opened, null, null));
            if (_model.Recovered(state) is { } problem)
            {
                Hard("acknowledged write lost or state impossible after reopen", problem);
            }
        }
        catch (Exception e)
        {
            Hard("the reopened database cannot be read", $"op {_op}: scanning everything after reopen, with faults suspended: {Describe(e)}");
        }
        finally
        {
            SetSuspended(false);
        }

        return opened;
    }

    private async Task CloseQuietlyAsync(Database db)
    {
        CompactionJobs += db.CompactionStats?.Jobs ?? 0;
        try
        {
            await BoundAsync(db.DisposeAsync);
        }
        catch (Exception e)
        {
            if (!Stopped)
            {
                Tolerate(e, "final dispose");
            }
        }
    }

    /// <summary>True when <paramref name="error"/> is one the fault model allows; otherwise records a finding (hard or soft).</summary>
    private bool Tolerate(Exception error, string what)
    {
        if (error is TimeoutException)
        {
            Hard("hang", $"{what} did not finish within {CallBound.TotalSeconds:0} s");
            return false;
        }

        if (Strict)
        {
            Hard("error without faults", $"{what}: {Describe(error)}");
            return false;
        }

        if (error is not SlateSharpException)
        {
            Hard("untyped error", $"{what}: {Describe(error)}");
            return false;
        }

        var chain = Chain(error).ToList();
        if (chain.OfType<SlateSharpException>().FirstOrDefault(e => e.Kind is ErrorKind.Data or ErrorKind.Invalid) is { } data)
        {
            Hard($"{data.Kind} error under faults that corrupt nothing", $"{what}: {Describe(error)}");
            return false;
        }

        if (chain.OfType<SlateSharpException>().Any(e => e.IsFenced))
        {
            Soft("fenced with no other writer", $"{what}: {Describe(error)}");
        }

        if (chain.OfType<SlateSharpException>().Any(e => e.Kind == ErrorKind.Internal))
        {
            Soft("internal error (an engine invariant broke)", $"{what}: {Describe(error)}");
        }

        if (chain.FirstOrDefault(e => e is not SlateSharpException and not OperationCanceledException) is { } untyped)
        {
            Soft("untyped error inside a typed one", $"{what}: {Describe(error)} (inner {untyped.GetType().Name})");
        }

        ToleratedFailures++;
        Note($"tolerated: {what}: {First(error.Message)}");
        return true;
    }

    private void Hard(string category, string detail)
    {
        _faultsAtStop ??= Chaos?.Log.Summary();
        _findings.Add(new ModelFinding(true, category, detail, _op, Chaos?.Log.Tail(60) ?? ""));
    }

    private void Soft(string category, string detail)
    {
        if (_findings.FirstOrDefault(f => f.Category == category) is { } seen)
        {
            seen.Occurrences++;
            return;
        }

        _findings.Add(new ModelFinding(false, category, detail, _op, Chaos?.Log.Tail(40) ?? ""));
    }

    private void Note(string text) => Chaos?.Log.Note($"op {_op}: {text}");

    private void SetSuspended(bool suspended)
    {
        if (Chaos is not null && Chaos.Suspended != suspended)
        {
            Chaos.Suspended = suspended;
        }
    }

    // Run on the pool: a call that loops without ever yielding must still meet the bound.
    private async Task BoundAsync(Func<ValueTask> call) => await Task.Run(async () => await call()).WaitAsync(CallBound);

    private async Task<T> BoundAsync<T>(Func<ValueTask<T>> call) => await Task.Run(async () => await call()).WaitAsync(CallBound);

    private async Task<T> BoundAsync<T>(Func<Task<T>> call) => await Task.Run(call).WaitAsync(CallBound);

    private static async Task<List<(string Key, string Value)>> ScanAllAsync(Database db, string? start, string? end) =>
        await db.ScanAsync((start, end) switch
            {
                (null, null) => KeyRange.All,
                (null, _) => KeyRange.Until(Bytes(end)),
                (_, null) => KeyRange.From(Bytes(start)),
                _ => KeyRange.Between(Bytes(start), Bytes(end)),
            })
            .Select(kv => (Encoding.UTF8.GetString(kv.Key.Span), Encoding.UTF8.GetString(kv.Value.Span))).ToListAsync();

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    private static string Describe(Exception error) =>
        string.Join(" <- ", Chain(error).Select(e => e is SlateSharpException s
            ? $"{s.Kind}{(s.CloseReason is { } r ? "/" + r : "")}: {e.Message}"
            : $"{e.GetType().Name}: {e.Message}"));

    private string Key() => "key-" + _random.Next(KeySpace).ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>Unique per operation, so a stale value can never pass for the expected one.</summary>
    private string Value() => $"w{_op}-" + new string('v', _random.Next(0, 120));

    private (string? Start, string? End) Range()
    {
        var a = _random.Next(KeySpace + 1);
        var b = _random.Next(KeySpace + 1);
        var start = _random.Next(6) == 0 ? null : "key-" + Math.Min(a, b).ToString("D4", CultureInfo.InvariantCulture);
        var end = _random.Next(6) == 0 ? null : "key-" + Math.Max(a, b).ToString("D4", CultureInfo.InvariantCulture);
        return (start, end);
    }

    private static string Short(string value) => value.Length <= 12 ? value : value[..value.IndexOf('-', StringComparison.Ordinal)] + "…";

    private static string Show(string? value) => value is null ? "<absent>" : $"\"{First(value)}\"";

    private static string First(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
