using System.Text;
using Microsoft.Coyote.Random;
using Microsoft.Coyote.Specifications;

namespace SlateSharp.Simulation;

/// <summary>
/// One iteration, run under Coyote's scheduler: writer A opens on a fresh store; user tasks write, delete, batch,
/// read and flush on it while its WAL task and flusher run; a closer ends it in the profile's way (possibly two
/// closers at once); a second writer B may open at a random moment, fencing A, and write and close itself. Every
/// choice (how many users, which operations, when B opens, which request fails how) is a Coyote choice, so the
/// seed and the trace replay the run exactly. At the end an honest checker reopens the database and every write the
/// <see cref="AckModel"/> says must survive is read back.
/// </summary>
internal sealed class SimulationRun(ScenarioProfile profile, int seed)
{
    private const int KeysPerUser = 3;
    private readonly SimulatedClock _clock = new();
    private Generator _choices = null!;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);
    private readonly List<string> _findings = [];
    private SimulatedStore _store = null!;
    private Heartbeat _heartbeat = null!;
    private AckModel _model = null!;

    public SimulationLog Log { get; } = new();

    public async Task RunAsync()
    {
        // Created inside the test: a generator made outside Coyote's runtime draws uncontrolled values.
        _choices = Generator.Create();
        var faults = new FaultPlan(profile.Faults, _choices);
        faults.Enabled = false;
        _store = new SimulatedStore(_clock, faults, Log);
        _model = new AckModel(Log);
        _heartbeat = new Heartbeat(_clock, _choices, FlushInterval, spontaneousBeats: 1 + _choices.NextInteger(8), maxBeats: 1000);
        var beating = _heartbeat.RunAsync();
        Log.Add($"scenario={profile.Name} seed={seed}: {profile.Description}");

        var a = new SimWriter("a", _store, Log);
        if (!await a.OpenAsync(Options("a")))
        {
            Specification.Assert(false, "writer a could not open an empty database on an honest store");
        }

        _heartbeat.Add(a);

        faults.Enabled = true;
        var tasks = new List<Task>();
        var users = 1 + _choices.NextInteger(profile.MaxUsers);
        var userTasks = new List<Task>();
        for (var u = 0; u < users; u++)
        {
            userTasks.Add(UserAsync(a, $"a{u}"));
        }

        tasks.AddRange(userTasks);
        tasks.Add(EndAsync(a, userTasks));
        var second = profile.SecondWriter switch
        {
            Presence.Always => true,
            Presence.Sometimes => _choices.NextBoolean(),
            _ => false,
        };
        if (second)
        {
            tasks.Add(SecondWriterAsync());
        }

        await Task.WhenAll(tasks.ToArray());
        faults.Enabled = false;
        Log.Add($"all actors done ({faults.Injected} faults injected, {_model.Acknowledged} writes acknowledged, {_model.Required} must survive); checking");
        await CheckAsync();
        _heartbeat.Stop();
        await beating;
        if (_findings.Count > 0)
        {
            Specification.Assert(false, string.Join("; ", _findings));
        }
    }

    private DbOptions Options(string party) => new()
    {
        TimeProvider = _clock,
        RandomSeed = (seed * 7) + party.Length + party[0],
        FlushInterval = FlushInterval,
        WalObjectMaxBytes = 1024,
        MemtableSizeBytes = 4096,
        MaxUnflushedBytes = 12288,
        L0MaxSsts = 10_000,
        BlockSizeBytes = 1024,
        BlockCacheBytes = 0,
        LoggerFactory = new LogSink(Log, party),
    };

    private async Task Pause(int maxYields)
    {
        var yields = _choices.NextInteger(maxYields + 1);
        for (var i = 0; i < yields; i++)
        {
            await Task.Yield();
        }
    }

    private Task UserAsync(SimWriter writer, string actor) => Task.Run(async () =>
    {
        var ops = 2 + _choices.NextInteger(profile.MaxOps - 1);
        for (var op = 0; op < ops; op++)
        {
            await Pause(3);
            if (!await StepAsync(writer, actor))
            {
                Log.Add($"{actor}: stops, {writer.Name} is closed");
                return;
            }
        }

        Log.Add($"{actor}: done");
    });

    /// <summary>One user operation; false once the writer is closed (fenced, failed or closed by the closer).</summary>
    private async Task<bool> StepAsync(SimWriter writer, string actor)
    {
        var db = writer.Db!;
        var key = $"{actor}-k{_choices.NextInteger(KeysPerUser)}";
        var kind = _choices.NextInteger(10);
        try
        {
            switch (kind)
            {
                case 0 or 1 or 2 or 3:
                {
                    var durable = Durable();
                    var value = ValueFor(_model.NextWriteId, actor);
                    var record = _model.Issue(writer.Name, actor, durable, [(key, value)]);
                    Log.Add($"{actor}: put w{record.Id} {key}={WriteRecord.Short(value)} ({(durable ? "durable" : "nowait")})");
                    await WriteAsync(record, () => db.PutAsync(Bytes(key), Bytes(value), durable ? WriteOptions.Default : WriteOptions.NoWait));
                    break;
                }

                case 4:
                {
                    var durable = Durable();
                    var record = _model.Issue(writer.Name, actor, durable, [(key, null)]);
                    Log.Add($"{actor}: delete w{record.Id} {key} ({(durable ? "durable" : "nowait")})");
                    await WriteAsync(record, () => db.DeleteAsync(Bytes(key), durable ? WriteOptions.Default : WriteOptions.NoWait));
                    break;
                }

                case 5:
                {
                    var durable = Durable();
                    var other = $"{actor}-k{(key[^1] - '0' + 1) % KeysPerUser}";
                    var id = _model.NextWriteId;
                    var deleteOther = _choices.NextInteger(4) == 0;
                    var record = _model.Issue(writer.Name, actor, durable, [(key, ValueFor(id, actor)), (other, deleteOther ? null : ValueFor(id, actor + "b"))]);
                    Log.Add($"{actor}: batch w{record.Id} {record.Describe()} ({(durable ? "durable" : "nowait")})");
                    var batch = new WriteBatch();
                    foreach (var (k, v) in record.Rows)
                    {
                        if (v is null)
                        {
                            batch.Delete(Bytes(k).Span);
                        }
                        else
                        {
                            batch.Put(Bytes(k).Span, Bytes(v).Span);
                        }
                    }

                    await WriteAsync(record, () => db.WriteAsync(batch, durable ? WriteOptions.Default : WriteOptions.NoWait));
                    break;
                }

                case 6 or 7:
                {
                    var memtable = kind == 7;
                    var what = memtable ? "memtable flush" : "wal flush";
                    Log.Add($"{actor}: {what} of {writer.Name}");
                    var started = _model.Now();
                    await db.FlushAsync(new FlushOptions { Kind = memtable ? FlushKind.Memtable : FlushKind.Wal });
                    _model.FlushSucceeded(writer.Name, started, what);
                    break;
                }

                default:
                {
                    var allowed = _model.AllowedWhileOpen(key);
                    var read = await db.GetAsync(Bytes(key));
                    var value = read is null ? null : Encoding.UTF8.GetString(read);
                    Log.Add($"{actor}: get {key} = {WriteRecord.Short(value)}");
                    if (!allowed.Contains(value))
                    {
                        Fail($"{actor} read {key} from {writer.Name} as {WriteRecord.Short(value)}, but its last acknowledged write (or a later one) " +
                            $"should be visible: one of [{string.Join(", ", allowed.Select(WriteRecord.Short))}]");
                    }

                    break;
                }
            }

            return true;
        }
        catch (SlateSharpException e)
        {
            writer.Observe(e);
            Log.Add($"{actor}: {e.Kind}{(e.CloseReason is { } reason ? "/" + reason : "")}: {e.Message}");
            return e.Kind != ErrorKind.Closed;
        }
        catch (Exception e) when (e is not ThreadInterruptedException)
        {
            Finding($"{actor}: a public call on {writer.Name} threw {e.GetType().Name}, not a SlateSharpException: {e.Message}");
            return false;
        }
    }

    private async Task WriteAsync(WriteRecord record, Func<ValueTask> write)
    {
        using var waiting = record.Durable ? _heartbeat.Waiting() : null;
        try
        {
            await write();
            _model.Acked(record);
        }
        catch (Exception e) when (e is not ThreadInterruptedException)
        {
            _model.Failed(record, e);
            throw;
        }
    }

    private bool Durable() => _choices.NextInteger(100) < profile.DurablePercent;

    private string ValueFor(int id, string actor)
    {
        var length = 100 + _choices.NextInteger(6) * 120;
        var prefix = $"w{id}:{actor}:";
        return prefix + new string('x', length - prefix.Length);
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private Task EndAsync(SimWriter writer, List<Task> users) => Task.Run(async () =>
    {
        var ending = profile.Endings[_choices.NextInteger(profile.Endings.Count)];
        var waitForUsers = _choices.NextBoolean();
        if (waitForUsers)
        {
            await Task.WhenAll(users.ToArray());
        }
        else
        {
            await Pause(30);
        }

        var db = writer.Db!;
        Log.Add($"{writer.Name}: ending with {ending}{(waitForUsers ? " after its users" : " while its users run")}");
        switch (ending)
        {
            case Ending.Close:
                await CloseAsync(writer, "close");
                break;
            case Ending.CloseTwice:
                await Task.WhenAll(CloseAsync(writer, "close#1"), CloseAsync(writer, "close#2"));
                break;
            case Ending.CloseAndDispose:
                await Task.WhenAll(CloseAsync(writer, "close"), DisposeAsync(writer));
                break;
            case Ending.Dispose:
                await DisposeAsync(writer);
                break;
            case Ending.Crash:
                Log.Add($"{writer.Name}: crash");
                await db.SimulateCrashAsync();
                break;
        }

        await Task.WhenAll(users.ToArray());
        if (ending != Ending.Crash)
        {
            // Whatever happened, a later dispose releases the writer and must not throw anything untyped.
            await DisposeAsync(writer);
        }

        writer.Ended = true;
    });

    private Task CloseAsync(SimWriter writer, string what) => Task.Run(async () =>
    {
        var started = _model.Now();
        Log.Add($"{writer.Name}: {what} starts (t={started})");
        try
        {
            await writer.Db!.CloseAsync();
            Log.Add($"{writer.Name}: {what} returned");
            _model.FlushSucceeded(writer.Name, started, what);
        }
        catch (SlateSharpException e)
        {
            writer.Observe(e);
            Log.Add($"{writer.Name}: {what} threw {e.Kind}{(e.CloseReason is { } reason ? "/" + reason : "")}: {e.Message}");
        }
        catch (Exception e) when (e is not ThreadInterruptedException)
        {
            Finding($"{writer.Name}: {what} threw {e.GetType().Name}, not a SlateSharpException: {e.Message}");
        }
    });

    private Task DisposeAsync(SimWriter writer) => Task.Run(async () =>
    {
        Log.Add($"{writer.Name}: dispose starts");
        try
        {
            await writer.Db!.DisposeAsync();
            Log.Add($"{writer.Name}: dispose returned");
        }
        catch (SlateSharpException e)
        {
            writer.Observe(e);
            Log.Add($"{writer.Name}: dispose threw {e.Kind}: {e.Message}");
        }
        catch (Exception e) when (e is not ThreadInterruptedException)
        {
            Finding($"{writer.Name}: dispose threw {e.GetType().Name}, not a SlateSharpException: {e.Message}");
        }
    });

    private Task SecondWriterAsync() => Task.Run(async () =>
    {
        await Pause(40);
        var b = new SimWriter("b", _store, Log);
        if (!await b.OpenAsync(Options("b")))
        {
            return;
        }

        _heartbeat.Add(b);

        var users = new List<Task> { UserAsync(b, "b0") };
        await Task.WhenAll(users.ToArray());
        await CloseAsync(b, "close");
        await DisposeAsync(b);
        b.Ended = true;
    });

    /// <summary>Reopens the database on an honest store and reads back every key the users wrote.</summary>
    private async Task CheckAsync()
    {
        var checker = new SimWriter("check", _store, Log);
        if (!await checker.OpenAsync(Options("check")))
        {
            Fail("the database could not be reopened after the run (the store is honest now)");
            return;
        }

        _heartbeat.Add(checker);

        var db = checker.Db!;
        var finals = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in _model.Keys.Order(StringComparer.Ordinal))
        {
            byte[]? read;
            try
            {
                read = await db.GetAsync(Bytes(key));
            }
            catch (SlateSharpException e)
            {
                Fail($"reading {key} after reopening failed: {e.Kind}: {e.Message}");
                return;
            }

            var value = read is null ? null : Encoding.UTF8.GetString(read);
            finals[key] = value;
            var (allowed, mustSurvive) = _model.AllowedAfterReopen(key);
            if (!allowed.Contains(value))
            {
                var what = mustSurvive is null ? "none must survive" : $"w{mustSurvive.Id} ({mustSurvive.Describe()}) must survive, acknowledged " +
                    (mustSurvive.Durable ? "as durable" : "in the memtable before a flush or close that succeeded");
                Fail($"acknowledged write lost: after reopening, {key} = {WriteRecord.Short(value)}; {what}; " +
                    $"allowed: [{string.Join(", ", allowed.Select(WriteRecord.Short))}]");
                return;
            }
        }

        CheckBatchesAtomic(finals);
        Log.Add($"check: {finals.Count} keys read back as the model allows");
        await db.CloseAsync();
        checker.Ended = true;
    }

    private void CheckBatchesAtomic(Dictionary<string, string?> finals)
    {
        foreach (var batch in _model.Writes.Where(w => w.Rows.Count > 1))
        {
            var seen = batch.Rows.FirstOrDefault(r => r.Value is not null && finals[r.Key] == r.Value);
            if (seen.Key is null)
            {
                continue;
            }

            foreach (var (key, _) in batch.Rows)
            {
                var writes = _model.WritesOf(key);
                var own = writes.ToList().IndexOf(batch);
                var final = finals[key];
                var index = _model.IndexOfValue(key, final);
                var possible = index >= own || (final is null && writes.Skip(own).Any(w => w.ValueOf(key) is null));
                if (!possible)
                {
                    Fail($"batch w{batch.Id} is visible only in part: {seen.Key} has its value, but {key} = {WriteRecord.Short(final)}, older than the batch");
                }
            }
        }
    }

    /// <summary>Fails the iteration now, naming the findings recorded so far.</summary>
    private void Fail(string message)
    {
        Log.Add("!! " + message);
        Specification.Assert(false, _findings.Count == 0 ? message : $"{message}; earlier: {string.Join("; ", _findings)}");
    }

    /// <summary>
    /// Records a contract breach that does not threaten data (an untyped exception): the run goes on to the data
    /// checks, which matter more, and fails at the end if nothing worse was found.
    /// </summary>
    private void Finding(string message)
    {
        Log.Add("!? " + message);
        _findings.Add(message);
    }
}
