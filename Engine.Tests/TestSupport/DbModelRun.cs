using System.Buffers.Binary;
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
/// A seeded random workload (puts, deletes, range deletes, counter merges and batches acknowledged durably or in the
/// memtable; gets, get-manys, scans forward, reverse, limited, keys only and by prefix; WAL and memtable flushes, clean
/// closes and crashes with reopens, snapshots and, given a <see cref="Clock"/>, puts that expire)
/// on one <see cref="Database"/>, checked against a <see cref="DurabilityModel"/>: every read while open against the
/// current model, the whole state after every reopen against the prefixes the acknowledgements allow. Every call is
/// bounded in time.
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
/// <para>
/// Snapshots: up to <see cref="MaxOpenSnapshots"/> are open at once, taken at random and kept across memtable flushes
/// and compactions; each records the model state of its moment, and its gets and scans must show exactly that state
/// (read at the clock's present time, see below). They are disposed at random and before every close; then the
/// database must count none open, and one kept through the close must refuse reads with <c>Closed</c>.
/// </para>
/// <para>
/// Expiry: with a <see cref="Clock"/> (it must be <see cref="DbOptions.TimeProvider"/>), a quarter of puts and batches
/// carry a <c>Ttl</c> or an <c>ExpireAt</c> (some already past), and the clock moves forward in random steps, a third
/// of them landing exactly on the next expiry. The model holds a put absent once its expiry is at or before now (the
/// engine's <c>ReadPath.IsLive</c>), hiding older values too; snapshots follow the same rule at the time they are read
/// (docs/usage.md: "invisible the moment it expires, by the clock of whoever reads"). Flushes and compactions read the
/// same clock and rewrite expired puts as tombstones, which must neither hide a newer write nor let an older value
/// back; a reopen is judged at the clock's time, with the expiries replayed. The clock moves a few seconds per hundred
/// operations, far below the 15-minute deadline an SST upload has to be published within.
/// </para>
/// <para>
/// Range deletes and merges: 2% of operations delete a range (<see cref="RangeDeleteBounds"/>: mostly a few keys, a
/// third anywhere, some bounds between keys; a few empty, which must write nothing, and a few reversed, which must be
/// Invalid and leave the database open). Every tenth key is a counter (<see cref="IsCounter"/>): its puts are 8-byte
/// values, 5% of operations merge onto one with the <see cref="CounterMergeOperator"/> of <see cref="SmallOptions"/>,
/// and a third of batches mix merges, puts and deletes of a few counter keys (repeated, so the batch must combine them
/// in order; such batches carry no expiry, which merges refuse). Range deletes cover counters too; a merge onto a
/// deleted or expired value is the operand alone. Under faults a failed range delete or merge is, like a failed put,
/// a write that may or may not have happened. Every write is a list of <see cref="ModelChange"/>s applied in
/// <see cref="ModelState.Apply"/>.
/// </para>
/// <para>
/// Reads: a scan (on the database or a snapshot) is a fifth of the time by prefix, and half the time reverse, limited
/// or keys only (<see cref="NextScan"/>), checked against the model's rows reversed, cut and emptied alike; a quarter
/// of snapshot gets and 3% of operations are get-manys of up to eight keys, some repeated.
/// </para>
/// </remarks>
public sealed class DbModelRun
{
    private const int KeySpace = 400;
    private const int MaxOpenSnapshots = 3;
    private static readonly ReadOnlyMemory<byte> ProbeKey = "probe-after-failure"u8.ToArray();
    private readonly List<ModelFinding> _findings = [];
    private readonly DurabilityModel _model = new();
    private readonly List<OpenSnapshot> _snapshots = [];
    private Random _random = null!;
    private int _op;
    private string? _faultsAtStop;
    private long _clockStart;

    /// <summary>What <see cref="Database.OpenAsync(IObjectStore, string, DbOptions?, CancellationToken)"/> is given: the chaos store, a decorator over it, or a plain store.</summary>
    public required IObjectStore Store { get; init; }

    public ChaosObjectStore? Chaos { get; init; }

    public required DbOptions Options { get; init; }

    /// <summary>The clock of <see cref="DbOptions.TimeProvider"/>, which the run moves and some puts expire by; null: no expiries.</summary>
    public ManualWallClock? Clock { get; init; }

    /// <summary>
    /// Options that make a short run exercise everything: tiny memtables, WAL objects and blocks, a 2 ms WAL interval,
    /// the counter merge operator (which the embedded compactor takes from these options too);
    /// <paramref name="retryTimeouts"/>, when given, bounds manifest updates and write retries.
    /// </summary>
    public static DbOptions SmallOptions(int seed, TimeSpan? retryTimeouts = null, bool compaction = true, GcOptions? gc = null, TimeProvider? time = null) => new()
    {
        TimeProvider = time ?? TimeProvider.System,
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
        MergeOperator = new CounterMergeOperator(),
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

    public int SnapshotsTaken { get; private set; }

    /// <summary>Gets and scans through a snapshot that were checked against its recorded state.</summary>
    public int SnapshotReads { get; private set; }

    public int ExpiringPuts { get; private set; }

    /// <summary>Range deletes issued (empty ones included; reversed ones, refused, are <see cref="InvalidRangeDeletes"/>).</summary>
    public int RangeDeletes { get; private set; }

    public int EmptyRangeDeletes { get; private set; }

    /// <summary>Range deletes whose range held a live key in the model when issued.</summary>
    public int RangeDeletesHidingRows { get; private set; }

    public int InvalidRangeDeletes { get; private set; }

    /// <summary>Gets (of get-many too) whose key holds merge operands and a value: a merged read.</summary>
    public int MergedGets { get; private set; }

    /// <summary>Get-many calls, on the database and in snapshots.</summary>
    public int GetManys { get; private set; }

    public int ReverseScans { get; private set; }

    public int LimitedScans { get; private set; }

    public int PrefixScans { get; private set; }

    /// <summary>Writes that failed (under faults: outcome unknown).</summary>
    public int FailedWrites { get; private set; }

    /// <summary>Of <see cref="FailedWrites"/>, those that were a range delete, or held a merge.</summary>
    public int FailedRangeDeletes { get; private set; }

    public int FailedMerges { get; private set; }

    /// <summary>Single <c>MergeAsync</c> calls.</summary>
    public int Merges { get; private set; }

    /// <summary>Merge operands inside batches.</summary>
    public int BatchMerges { get; private set; }

    /// <summary>Gets (snapshot gets included) whose key held a put that had expired by the time of the read.</summary>
    public int ExpiredGets { get; private set; }

    private long Now => Clock?.UnixMilliseconds ?? 0;

    private bool Strict => Chaos is null;

    private bool Stopped => _findings.Any(f => f.Hard);

    public async Task RunAsync()
    {
        if (Clock is not null && !ReferenceEquals(Options.TimeProvider, Clock))
        {
            throw new InvalidOperationException("the run's Clock must be the TimeProvider of its Options, or expiries would be judged by two clocks");
        }

        _random = new Random(Seed);
        _clockStart = Now;
        var db = await ReopenAsync(null, clean: true);
        try
        {
            for (_op = 0; _op < Operations && db is not null && !Stopped; _op++)
            {
                var choice = _random.Next(100);
                db = choice switch
                {
                    < 29 => await PutAsync(db),
                    < 37 => await DeleteAsync(db),
                    < 39 => await DeleteRangeAsync(db),
                    < 44 => await MergeAsync(db),
                    < 51 => await BatchAsync(db),
                    < 68 => await GetAsync(db),
                    < 71 => await GetManyAsync(db),
                    < 79 => await ScanAsync(db),
                    < 82 => await TakeOrDisposeSnapshotAsync(db),
                    < 87 => await SnapshotGetAsync(db),
                    < 91 => await SnapshotScanAsync(db),
                    < 93 => await AdvanceClockAsync(db),
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

            foreach (var open in _snapshots)
            {
                await open.Snapshot.DisposeAsync();
            }

            _snapshots.Clear();
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
        $"snapshots={SnapshotsTaken} snapshot_reads={SnapshotReads} expiring_puts={ExpiringPuts} expired_gets={ExpiredGets} clock=+{Now - _clockStart} ms " +
        $"range_deletes={RangeDeletes} (empty={EmptyRangeDeletes} hiding_rows={RangeDeletesHidingRows} invalid={InvalidRangeDeletes}) merges={Merges} batch_merges={BatchMerges} " +
        $"failed_writes={FailedWrites} failed_range_deletes={FailedRangeDeletes} failed_merge_writes={FailedMerges} " +
        $"merged_gets={MergedGets} get_manys={GetManys} reverse_scans={ReverseScans} limited_scans={LimitedScans} prefix_scans={PrefixScans} " +
        $"faults: {_faultsAtStop ?? Chaos?.Log.Summary() ?? "none"}";

    private async Task<Database?> PutAsync(Database db)
    {
        var key = Key();
        var value = ValueFor(key);
        var durable = _random.Next(10) == 0;
        var (options, expireAt, expiry) = Expiry(durable);
        ExpiringPuts += expireAt is null ? 0 : 1;
        return await WriteAsync(db, $"put {key}={Short(key, value)}{expiry}", [new ModelChange.Put(key, value, expireAt)], durable,
            () => db.PutAsync(Bytes(key), Bytes(value), options));
    }

    private async Task<Database?> DeleteAsync(Database db)
    {
        var key = Key();
        var durable = _random.Next(20) == 0;
        return await WriteAsync(db, $"delete {key}", [new ModelChange.Delete(key)], durable,
            () => db.DeleteAsync(Bytes(key), durable ? WriteOptions.Default : WriteOptions.NoWait));
    }

    /// <summary>
    /// Deletes a range (<see cref="RangeDeleteBounds"/>). An empty range writes nothing and waits for nothing, so even
    /// with <c>AwaitDurable</c> its acknowledgement proves no earlier write durable; a reversed one must be Invalid.
    /// </summary>
    private async Task<Database?> DeleteRangeAsync(Database db)
    {
        var (start, end, reversed) = RangeDeleteBounds();
        if (reversed)
        {
            return await ReversedRangeDeleteAsync(db, start, end);
        }

        var durable = _random.Next(10) == 0;
        var empty = start == end;
        var hidden = _model.Current.Rows(start, end, Now).Count();
        RangeDeletes++;
        EmptyRangeDeletes += empty ? 1 : 0;
        RangeDeletesHidingRows += hidden > 0 ? 1 : 0;
        return await WriteAsync(db, $"delete range [{start}, {end}) {(empty ? "(empty: writes nothing)" : $"over {hidden} live keys")}",
            [new ModelChange.DeleteRange(start, end)], durable && !empty,
            () => db.DeleteRangeAsync(Bytes(start), Bytes(end), durable ? WriteOptions.Default : WriteOptions.NoWait));
    }

    private async Task<Database?> ReversedRangeDeleteAsync(Database db, string start, string end)
    {
        var what = $"op {_op}: delete range [{start}, {end}) with its start after its end";
        try
        {
            await BoundAsync(() => db.DeleteRangeAsync(Bytes(start), Bytes(end), WriteOptions.NoWait));
            Hard("a reversed range delete was accepted", $"{what} succeeded; docs/usage.md: a start after the end is Invalid");
        }
        catch (SlateSharpException e) when (e.Kind == ErrorKind.Invalid)
        {
            InvalidRangeDeletes++;
        }
        catch (Exception e)
        {
            return await AfterReadFailureAsync(db, e, what);
        }

        return db;
    }

    private async Task<Database?> MergeAsync(Database db)
    {
        var key = CounterKey();
        var operand = Operand();
        var durable = _random.Next(10) == 0;
        Merges++;
        return await WriteAsync(db, $"merge {key} += {operand}", [new ModelChange.Merge(key, ModelState.Counter(operand))], durable,
            () => db.MergeAsync(Bytes(key), Bytes(ModelState.Counter(operand)), durable ? WriteOptions.Default : WriteOptions.NoWait));
    }

    /// <summary>
    /// A batch of puts and deletes; a third of batches also work on one to three counter keys, with merges, puts and
    /// deletes that repeat a key, so the engine must combine a key's operations in order (merges after a put or delete
    /// become a put, merges alone one operand). Merges take no expiry, so neither does such a batch.
    /// </summary>
    private async Task<Database?> BatchAsync(Database db)
    {
        var durable = _random.Next(10) == 0;
        var counters = _random.Next(3) == 0 ? Enumerable.Range(0, _random.Next(1, 4)).Select(_ => CounterKey()).ToList() : null;
        var (options, expireAt, expiry) = counters is null ? Expiry(durable) : (durable ? WriteOptions.Default : WriteOptions.NoWait, null, "");
        var batch = new WriteBatch();
        var changes = new List<ModelChange>();
        for (var i = _random.Next(1, 8); i > 0; i--)
        {
            if (counters is not null && _random.Next(3) != 0)
            {
                var counter = counters[_random.Next(counters.Count)];
                switch (_random.Next(6))
                {
                    case 0:
                        batch.Delete(Bytes(counter).Span);
                        changes.Add(new ModelChange.Delete(counter));
                        break;
                    case 1:
                        var put = ValueFor(counter);
                        batch.Put(Bytes(counter).Span, Bytes(put).Span);
                        changes.Add(new ModelChange.Put(counter, put));
                        break;
                    default:
                        var operand = ModelState.Counter(Operand());
                        batch.Merge(Bytes(counter).Span, Bytes(operand).Span);
                        changes.Add(new ModelChange.Merge(counter, operand));
                        BatchMerges++;
                        break;
                }

                continue;
            }

            var key = Key();
            if (_random.Next(4) == 0)
            {
                batch.Delete(Bytes(key).Span);
                changes.Add(new ModelChange.Delete(key));
            }
            else
            {
                var value = ValueFor(key);
                batch.Put(Bytes(key).Span, Bytes(value).Span);
                changes.Add(new ModelChange.Put(key, value, expireAt));
                ExpiringPuts += expireAt is null ? 0 : 1;
            }
        }

        var shown = changes.Select(c => c switch
        {
            ModelChange.Put p => p.Key + "=" + Short(p.Key, p.Value),
            ModelChange.Merge m => $"{m.Key} += {CounterOf(m.Operand)}",
            _ => ((ModelChange.Delete)c).Key + " deleted",
        });
        return await WriteAsync(db, $"batch of {changes.Count} ({string.Join(", ", shown)}){expiry}", changes, durable, () => db.WriteAsync(batch, options));
    }

    /// <summary>
    /// How a write is acknowledged and, without a clock never and otherwise for a quarter of writes, when its puts
    /// expire: by a <c>Ttl</c> of up to 20 s, or an <c>ExpireAt</c> up to 20 s ahead, up to 1 s past, or exactly now.
    /// </summary>
    private (WriteOptions Options, long? ExpireAt, string Shown) Expiry(bool durable)
    {
        if (Clock is null || _random.Next(4) != 0)
        {
            return (durable ? WriteOptions.Default : WriteOptions.NoWait, null, "");
        }

        var now = Now;
        if (_random.Next(2) == 0)
        {
            var ttl = _random.Next(1, 20_000);
            return (new WriteOptions { AwaitDurable = durable, Ttl = TimeSpan.FromMilliseconds(ttl) }, now + ttl, $" ttl {ttl} ms (until {now + ttl})");
        }

        var at = now + (_random.Next(8) == 0 ? 0 : _random.Next(-1_000, 20_000));
        return (new WriteOptions { AwaitDurable = durable, ExpireAt = DateTimeOffset.FromUnixTimeMilliseconds(at) }, at, $" expire at {at} (now {now})");
    }

    private async Task<Database?> WriteAsync(Database db, string what, IReadOnlyList<ModelChange> changes, bool durable, Func<ValueTask> write)
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
            FailedWrites++;
            FailedRangeDeletes += changes.Any(c => c is ModelChange.DeleteRange) ? 1 : 0;
            FailedMerges += changes.Any(c => c is ModelChange.Merge) ? 1 : 0;
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

    private Task<Database?> GetAsync(Database db)
    {
        var key = Key();
        return CheckGetAsync(db, $"op {_op}: get {key}", "wrong read while open", key, _model.Current, () => db.GetAsync(Bytes(key)));
    }

    private Task<Database?> GetManyAsync(Database db)
    {
        var keys = ManyKeys();
        GetManys++;
        return CheckGetManyAsync(db, $"op {_op}: get many [{string.Join(", ", keys)}]", "wrong get-many while open", keys, _model.Current,
            () => db.GetManyAsync(keys.Select(Bytes).ToList()));
    }

    private Task<Database?> ScanAsync(Database db)
    {
        var scan = NextScan();
        return CheckScanAsync(db, $"op {_op}: {scan}", "wrong scan while open", scan, _model.Current,
            () => ScanAllAsync(scan.Prefix is null ? db.ScanAsync(Range(scan.Start, scan.End), scan.Options) : db.ScanPrefixAsync(Bytes(scan.Prefix), scan.Options)));
    }

    /// <summary>With fewer than the most snapshots open, mostly takes one; otherwise disposes one at random.</summary>
    private async Task<Database?> TakeOrDisposeSnapshotAsync(Database db)
    {
        if (_snapshots.Count > 0 && (_snapshots.Count >= MaxOpenSnapshots || _random.Next(3) == 0))
        {
            var index = _random.Next(_snapshots.Count);
            await DisposeSnapshotAsync(_snapshots[index]);
            _snapshots.RemoveAt(index);
            return db;
        }

        try
        {
            var snapshot = await BoundAsync(() => db.GetSnapshotAsync());
            _snapshots.Add(new OpenSnapshot(snapshot, _model.Current.Clone(), _op));
            SnapshotsTaken++;
            Note($"snapshot at sequence {snapshot.Sequence}");
            return db;
        }
        catch (Exception e)
        {
            return await AfterReadFailureAsync(db, e, $"op {_op}: take a snapshot");
        }
    }

    private Task<Database?> SnapshotGetAsync(Database db)
    {
        if (_snapshots.Count == 0)
        {
            return GetAsync(db);
        }

        var open = _snapshots[_random.Next(_snapshots.Count)];
        SnapshotReads++;
        if (_random.Next(4) == 0)
        {
            var keys = ManyKeys();
            GetManys++;
            return CheckGetManyAsync(db, $"op {_op}: get many [{string.Join(", ", keys)}] in the snapshot of op {open.TakenAt} (sequence {open.Snapshot.Sequence})",
                "wrong get-many in a snapshot", keys, open.State, () => open.Snapshot.GetManyAsync(keys.Select(Bytes).ToList()));
        }

        var key = Key();
        return CheckGetAsync(db, $"op {_op}: get {key} in the snapshot of op {open.TakenAt} (sequence {open.Snapshot.Sequence})", "wrong read in a snapshot",
            key, open.State, () => open.Snapshot.GetAsync(Bytes(key)));
    }

    private Task<Database?> SnapshotScanAsync(Database db)
    {
        if (_snapshots.Count == 0)
        {
            return ScanAsync(db);
        }

        var open = _snapshots[_random.Next(_snapshots.Count)];
        var scan = NextScan();
        SnapshotReads++;
        return CheckScanAsync(db, $"op {_op}: {scan} in the snapshot of op {open.TakenAt} (sequence {open.Snapshot.Sequence})", "wrong scan in a snapshot", scan, open.State,
            () => ScanAllAsync(scan.Prefix is null
                ? open.Snapshot.ScanAsync(Range(scan.Start, scan.End), scan.Options)
                : open.Snapshot.ScanPrefixAsync(Bytes(scan.Prefix), scan.Options)));
    }

    private async Task<Database?> CheckGetAsync(Database db, string what, string category, string key, ModelState state, Func<ValueTask<byte[]?>> get)
    {
        try
        {
            var got = await BoundAsync(get);
            var now = Now;
            var actual = got is null ? null : Text.GetString(got);
            var expected = Expect(state, key, now);
            if (actual != expected)
            {
                Hard(category, $"{what} at {now} returned {Show(key, actual)}, the model holds {Show(key, expected)}{Versions(state, key)}");
            }

            return db;
        }
        catch (Exception e)
        {
            return await AfterReadFailureAsync(db, e, what);
        }
    }

    /// <summary>Gets many keys (duplicates among them); every answer, in the keys' order, must be the model's.</summary>
    private async Task<Database?> CheckGetManyAsync(Database db, string what, string category, List<string> keys, ModelState state, Func<ValueTask<byte[]?[]>> get)
    {
        try
        {
            var got = await BoundAsync(get);
            var now = Now;
            if (got.Length != keys.Count)
            {
                Hard(category, $"{what} returned {got.Length} answers for {keys.Count} keys");
                return db;
            }

            for (var i = 0; i < keys.Count; i++)
            {
                var actual = got[i] is { } bytes ? Text.GetString(bytes) : null;
                var expected = Expect(state, keys[i], now);
                if (actual != expected)
                {
                    Hard(category, $"{what} at {now}: answer {i} ({keys[i]}) is {Show(keys[i], actual)}, the model holds {Show(keys[i], expected)}{Versions(state, keys[i])}");
                    break;
                }
            }

            return db;
        }
        catch (Exception e)
        {
            return await AfterReadFailureAsync(db, e, what);
        }
    }

    /// <summary>The model's value of one key for a get, counting what the get exercises.</summary>
    private string? Expect(ModelState state, string key, long now)
    {
        var expected = state.Get(key, now);
        ExpiredGets += expected is null && state.Get(key, long.MinValue) is not null ? 1 : 0;
        MergedGets += expected is not null && state.HasOperands(key) ? 1 : 0;
        return expected;
    }

    private async Task<Database?> CheckScanAsync(
        Database db, string what, string category, ScanRequest request, ModelState state, Func<Task<List<(string Key, string Value)>>> scan)
    {
        ReverseScans += request.Reverse ? 1 : 0;
        LimitedScans += request.Limit is null ? 0 : 1;
        PrefixScans += request.Prefix is null ? 0 : 1;
        try
        {
            var scanned = await BoundAsync(scan);
            var now = Now;
            var expected = request.Expected(state, now);
            if (!scanned.SequenceEqual(expected))
            {
                var row = Enumerable.Range(0, Math.Min(scanned.Count, expected.Count)).FirstOrDefault(i => scanned[i] != expected[i], Math.Min(scanned.Count, expected.Count));
                string At(List<(string Key, string Value)> rows) => row < rows.Count ? $"{rows[row].Key}={Show(rows[row].Key, rows[row].Value)}" : "the end";
                var keys = new[] { scanned, expected }.Where(rows => row < rows.Count).Select(rows => rows[row].Key).Distinct();
                Hard(category,
                    $"{what} at {now} returned {scanned.Count} rows, the model holds {expected.Count}; first difference at row {row}: {At(scanned)} where the model has {At(expected)}" +
                    string.Concat(keys.Select(k => Versions(state, k))));
            }

            return db;
        }
        catch (Exception e)
        {
            return await AfterReadFailureAsync(db, e, what);
        }
    }

    /// <summary>Moves the clock 1 ms to 3 s, or a third of the time exactly onto the next expiry (if within 30 s).</summary>
    private Task<Database?> AdvanceClockAsync(Database db)
    {
        if (Clock is null)
        {
            return GetAsync(db);
        }

        var now = Now;
        var step = _random.Next(3) == 0 && _model.Current.NextExpiryAfter(now) is { } next && next - now <= 30_000 ? next - now : _random.Next(1, 3_000);
        Clock.Advance(step);
        Note($"clock +{step} ms to {Now}");
        return Task.FromResult<Database?>(db);
    }

    private async Task DisposeSnapshotAsync(OpenSnapshot open)
    {
        try
        {
            await BoundAsync(open.Snapshot.DisposeAsync);
        }
        catch (Exception e)
        {
            Hard("snapshot DisposeAsync threw", $"op {_op}: disposing the snapshot of op {open.TakenAt}: {Describe(e)}");
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
        OpenSnapshot? kept = null;
        if (db is not null)
        {
            Reopens++;
            CompactionJobs += db.CompactionStats?.Jobs ?? 0;
            kept = await DisposeSnapshotsAsync(db);
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

            if (kept is not null)
            {
                await ExpectClosedSnapshotAsync(kept);
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
            var state = await BoundAsync(() => ScanAllAsync(opened.ScanAsync(default, default)));
            if (_model.Recovered(state, Now) is { } problem)
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

    /// <summary>
    /// Disposes the open snapshots before a close, but a third of the time keeps one to read after the close; then the
    /// database must count only that one open. Returns the kept one.
    /// </summary>
    private async Task<OpenSnapshot?> DisposeSnapshotsAsync(Database db)
    {
        var kept = _snapshots.Count > 0 && _random.Next(3) == 0 ? _snapshots[_random.Next(_snapshots.Count)] : null;
        foreach (var open in _snapshots.Where(s => s != kept))
        {
            await DisposeSnapshotAsync(open);
        }

        _snapshots.Clear();
        if (db.OpenSnapshots != (kept is null ? 0 : 1))
        {
            Hard("disposed snapshots still counted open", $"op {_op}: before the close, {db.OpenSnapshots} snapshots are open, {(kept is null ? 0 : 1)} not disposed");
        }

        return kept;
    }

    /// <summary>A snapshot outlives its database only as an object: reads fail with Closed (docs/usage.md), never show data.</summary>
    private async Task ExpectClosedSnapshotAsync(OpenSnapshot kept)
    {
        var what = $"op {_op}: get in the snapshot of op {kept.TakenAt}, kept through the close";
        try
        {
            var got = await BoundAsync(() => kept.Snapshot.GetAsync(Bytes(Key())));
            Hard("a snapshot read after its database closed", $"{what} returned {(got is null ? "absent" : "a value")} instead of failing with Closed");
        }
        catch (SlateSharpException e) when (e.Kind == ErrorKind.Closed)
        {
        }
        catch (Exception e)
        {
            Tolerate(e, what);
        }

        await DisposeSnapshotAsync(kept);
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

    private static async Task<List<(string Key, string Value)>> ScanAllAsync(IAsyncEnumerable<KeyValue> rows) =>
        await rows.Select(kv => (Text.GetString(kv.Key.Span), Text.GetString(kv.Value.Span))).ToListAsync();

    private static KeyRange Range(string? start, string? end) => (start, end) switch
    {
        (null, null) => KeyRange.All,
        (null, _) => KeyRange.Until(Bytes(end)),
        (_, null) => KeyRange.From(Bytes(start)),
        _ => KeyRange.Between(Bytes(start), Bytes(end)),
    };

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

    private string Key() => KeyAt(_random.Next(KeySpace));

    private static string KeyAt(int index) => "key-" + index.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>Every tenth key (index ending in 0) is a counter: merges go only there, so its values are always 8 bytes.</summary>
    private static bool IsCounter(string key) => key.EndsWith('0');

    private string CounterKey() => KeyAt(10 * _random.Next(KeySpace / 10));

    /// <summary>
    /// Unique per operation, so a stale value can never pass for the expected one; on a counter key, a random 48-bit
    /// counter (sums of a run's operands stay far from overflow, and a lost or doubled operand changes the sum).
    /// </summary>
    private string ValueFor(string key) => IsCounter(key) ? ModelState.Counter((ulong)_random.NextInt64(1L << 48)) : Value();

    private string Value() => $"w{_op}-" + new string('v', _random.Next(0, 120));

    /// <summary>Mostly small, a quarter up to 2^32.</summary>
    private ulong Operand() => _random.Next(4) == 0 ? (ulong)_random.NextInt64(1L << 32) : (ulong)_random.Next(1, 1000);

    /// <summary>
    /// Bounds of a range delete: mostly narrow (one to five keys), a third of the time anywhere in the key space (often
    /// wide), each bound a key, a shorter prefix that sorts before it or a string between it and the next key; one in
    /// twenty equal (empty), one in forty reversed.
    /// </summary>
    private (string Start, string End, bool Reversed) RangeDeleteBounds()
    {
        var a = _random.Next(KeySpace);
        var kind = _random.Next(40);
        if (kind == 0)
        {
            return (KeyAt(a + _random.Next(1, 6)), KeyAt(a), true);
        }

        if (kind < 3)
        {
            var bound = Bound(a);
            return (bound, bound, false);
        }

        var b = kind < 27 ? a + _random.Next(1, 6) : _random.Next(KeySpace + 1);
        var (start, end) = (Bound(Math.Min(a, b)), Bound(Math.Max(a, b)));
        return string.CompareOrdinal(start, end) <= 0 ? (start, end, false) : (end, start, false);
    }

    private string Bound(int index) => _random.Next(8) switch
    {
        0 => KeyAt(index)[..7],
        1 => KeyAt(index) + "~",
        _ => KeyAt(index),
    };

    /// <summary>Several keys for a get-many, a quarter of them repeating an earlier one.</summary>
    private List<string> ManyKeys()
    {
        var keys = new List<string>();
        for (var i = _random.Next(1, 9); i > 0; i--)
        {
            keys.Add(keys.Count > 0 && _random.Next(4) == 0 ? keys[_random.Next(keys.Count)] : Key());
        }

        return keys;
    }

    /// <summary>
    /// A scan: a fifth by prefix (a key cut to 3 to 8 chars, now and then one no key has), the rest over a
    /// <see cref="Range()"/>; half of them with options, each of reverse and a limit (mostly small) half the time, keys
    /// only a fifth.
    /// </summary>
    private ScanRequest NextScan()
    {
        string? prefix = null;
        (string? Start, string? End) range = (null, null);
        if (_random.Next(5) == 0)
        {
            var key = Key();
            prefix = _random.Next(20) == 0 ? "key-9" : key[.._random.Next(3, key.Length + 1)];
        }
        else
        {
            range = Range();
        }

        if (_random.Next(2) == 0)
        {
            return new ScanRequest(range.Start, range.End, prefix, false, null, false);
        }

        var reverse = _random.Next(2) == 0;
        int? limit = _random.Next(2) == 0 ? (_random.Next(4) == 0 ? _random.Next(1, 400) : _random.Next(1, 6)) : null;
        return new ScanRequest(range.Start, range.End, prefix, reverse, limit, _random.Next(5) == 0);
    }

    private (string? Start, string? End) Range()
    {
        var a = _random.Next(KeySpace + 1);
        var b = _random.Next(KeySpace + 1);
        var start = _random.Next(6) == 0 ? null : "key-" + Math.Min(a, b).ToString("D4", CultureInfo.InvariantCulture);
        var end = _random.Next(6) == 0 ? null : "key-" + Math.Max(a, b).ToString("D4", CultureInfo.InvariantCulture);
        return (start, end);
    }

    private static string Short(string key, string value) =>
        IsCounter(key) && value.Length == 8 ? "#" + CounterOf(value) : value.Length <= 12 ? value : value[..value.IndexOf('-', StringComparison.Ordinal)] + "…";

    private static ulong CounterOf(string value) => BinaryPrimitives.ReadUInt64LittleEndian(Text.GetBytes(value));

    private static string Show(string key, string? value) => value is null ? "<absent>" : IsCounter(key) && value.Length == 8 ? "#" + CounterOf(value) : $"\"{First(value)}\"";

    private static string First(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private static string Versions(ModelState state, string key) => $" (the model's versions of {key}: {state.VersionsOf(key)})";

    /// <summary>One char per byte both ways, so a value that is not text (a counter) survives the round trip.</summary>
    private static Encoding Text => Encoding.Latin1;

    private static ReadOnlyMemory<byte> Bytes(string text) => Text.GetBytes(text);

    /// <summary>A scan the run issues: over a range or a prefix, perhaps reversed, limited or keys only.</summary>
    private sealed record ScanRequest(string? Start, string? End, string? Prefix, bool Reverse, int? Limit, bool KeysOnly)
    {
        public ScanOptions? Options => Reverse || Limit is not null || KeysOnly ? new ScanOptions { Reverse = Reverse, Limit = Limit, KeysOnly = KeysOnly } : null;

        /// <summary>The model's rows in key order, then reversed, cut to the limit, values emptied for keys only.</summary>
        public List<(string Key, string Value)> Expected(ModelState state, long now)
        {
            var rows = Prefix is null ? state.Rows(Start, End, now) : state.Rows(null, null, now).Where(r => r.Key.StartsWith(Prefix, StringComparison.Ordinal));
            rows = Reverse ? rows.Reverse() : rows;
            rows = Limit is { } limit ? rows.Take(limit) : rows;
            return [.. rows.Select(r => (r.Key, KeysOnly ? "" : r.Value))];
        }

        public override string ToString() =>
            (Prefix is null ? $"scan [{Start ?? "-inf"}, {End ?? "+inf"})" : $"scan prefix \"{Prefix}\"") +
            (Reverse ? " reverse" : "") + (Limit is { } limit ? $" limit {limit}" : "") + (KeysOnly ? " keys only" : "");
    }

    /// <summary>A snapshot, the model state of the moment it was taken, and when that was.</summary>
    private sealed record OpenSnapshot(DbSnapshot Snapshot, ModelState State, int TakenAt);
}
