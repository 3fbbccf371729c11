using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Common;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// The model-based workload of <see cref="DbModelRun"/> (snapshots, expiring puts, range deletes, counter merges,
/// get-manys and reverse, limited and prefix scans included) under a
/// <see cref="ChaosObjectStore"/> that fails requests as real object stores do, opened directly on the faulty store and
/// behind the retrying decorator, for many seeds: after every reopen the whole state must be one the acknowledgements
/// allow, every read while open (a snapshot read too: it may fail, typed, but never show a wrong value) must match the
/// model, and every call must end, typed, within a bound. A failed range delete or merge is an unknown outcome, as a
/// failed put is: the recovered state may hold it or not. A permanently broken store must surface as typed errors within a
/// bounded time, close included.
/// </summary>
/// <remarks>
/// CI runs <see cref="DefaultSeeds"/> seeds per case; SLATESHARP_FAULT_SEEDS=N runs N; SLATESHARP_TEST_SEED=S runs
/// only seed S (filter the case by name, e.g. <c>--filter "Name~late-commits"</c>). A failure prints the seed, the
/// findings and the fault log around each.
/// </remarks>
public sealed class FaultModelTests
{
    private const int DefaultSeeds = 6;
    private const int OperationsPerSeed = 1500;
    private static readonly TimeSpan PermanentBound = TimeSpan.FromSeconds(15);

    public static IEnumerable<TestCaseData> Workloads()
    {
        var seeds = Seeds();
        foreach (var profile in FaultProfile.All)
        {
            foreach (var retrying in new[] { false, true })
            {
                foreach (var seed in seeds)
                {
                    yield return Case("memory", profile.Name, retrying, seed);
                }
            }
        }

        foreach (var retrying in new[] { false, true })
        {
            foreach (var seed in seeds.Take(Math.Max(1, seeds.Count / 4)))
            {
                yield return Case("local", FaultProfile.Everything.Name, retrying, seed);
            }
        }
    }

    [TestCaseSource(nameof(Workloads))]
    public async Task The_model_holds_under_faults(string storeKind, string profileName, bool retrying, int seed)
    {
        using var directory = new TestDirectory();
        using var local = storeKind == "local" ? LocalFileSystemObjectStore.Open(directory.Path) : null;
        IObjectStore inner = local is null ? new InMemoryObjectStore("faults") : local;
        var chaos = new ChaosObjectStore(inner, FaultProfile.Named(profileName), seed);
        var time = new ManualWallClock();
        var run = new DbModelRun
        {
            Store = retrying ? Retrying(chaos, seed) : chaos,
            Chaos = chaos,
            Options = Options(seed, compaction: seed % 2 == 1, time: time),
            Clock = time,
            Seed = seed,
            Operations = OperationsPerSeed,
            CrashShare = 0.5,
        };
        var title = $"{storeKind} {profileName} {(retrying ? "retrying" : "direct")} compaction {(seed % 2 == 1 ? "on" : "off")}";
        var clock = Stopwatch.StartNew();

        await run.RunAsync();

        TestContext.Out.WriteLine($"{title} seed={seed}: {run.Summary()} in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.That(run.Findings.Select(f => f.Category), Is.Empty, run.Report(title));
        Assert.That(chaos.Log.Faults + chaos.Log.Count(InjectedFault.Slow), Is.GreaterThan(0), "the profile injected something");
        Assert.That(run.Writes, Is.GreaterThan(OperationsPerSeed / 4), "the workload ran to its end");
    }

    /// <summary>
    /// The apparatus can fail: a store that answers every WAL put as stored and keeps none of them is caught. (Forgetting
    /// only some WAL objects is caught only when a crash happens before the memtable holding their rows is flushed, which
    /// depends on timing; forgetting all of them loses every durable write acknowledged since the last memtable flush.)
    /// </summary>
    [Test]
    public async Task The_model_catches_a_store_that_forgets_acknowledged_writes()
    {
        var seed = TestSeeds.Get(3);
        var chaos = new ChaosObjectStore(new ForgetfulStore(new InMemoryObjectStore("forgetful")), FaultProfile.None, seed);
        var run = new DbModelRun { Store = chaos, Chaos = chaos, Options = Options(seed), Seed = seed, Operations = OperationsPerSeed, CrashShare = 1 };

        await run.RunAsync();

        TestContext.Out.WriteLine($"{run.Summary()}\n{run.Report("forgetful store")}");
        Assert.That(run.Findings.Select(f => f.Category), Does.Contain("acknowledged write lost or state impossible after reopen"));
    }

    [TestCase("all", PermanentFault.Unavailable, false)]
    [TestCase("all", PermanentFault.Unavailable, true)]
    [TestCase("wal", PermanentFault.Unavailable, false)]
    [TestCase("wal", PermanentFault.Unavailable, true)]
    [TestCase("manifest", PermanentFault.Unavailable, false)]
    [TestCase("manifest", PermanentFault.Unavailable, true)]
    [TestCase("compacted", PermanentFault.Unavailable, false)]
    [TestCase("compacted", PermanentFault.Unavailable, true)]
    [TestCase("wal", PermanentFault.Exists, false)]
    [TestCase("wal", PermanentFault.Exists, true)]
    [TestCase("manifest", PermanentFault.Exists, false)]
    [TestCase("manifest", PermanentFault.Exists, true)]
    public async Task A_permanent_failure_surfaces_as_a_typed_error_within_a_bounded_time(string areaName, PermanentFault kind, bool retrying)
    {
        var seed = TestSeeds.Get(11);
        StoreArea? area = areaName == "all" ? null : Enum.Parse<StoreArea>(areaName, ignoreCase: true);
        var chaos = new ChaosObjectStore(new InMemoryObjectStore("permanent"), FaultProfile.None, seed);
        IObjectStore store = retrying ? Retrying(chaos, seed) : chaos;
        var options = Options(seed);
        var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        for (var i = 0; i < 200; i++)
        {
            await db.PutAsync(Key(i), Value(i), i % 50 == 49 ? WriteOptions.Default : WriteOptions.NoWait);
            if (i == 99)
            {
                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            }
        }

        chaos.BreakPermanently(area, kind);
        var outcomes = new List<(string Call, string Outcome)>();
        using var cancel = new CancellationTokenSource();

        await CallAsync("durable put", () => db.PutAsync(Key(1000), Value(1000), WriteOptions.Default, cancel.Token).AsTask());
        await CallAsync("get of a flushed key", () => db.GetAsync(Key(5), cancellationToken: cancel.Token).AsTask());
        await CallAsync("memtable flush", () => db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable }, cancel.Token).AsTask());
        await CallAsync("close", () => db.CloseAsync(cancel.Token).AsTask());
        SlateSharp.Db? reopened = null;
        await CallAsync("open", async () => reopened = await SlateSharp.Db.OpenAsync(store, "db", options, cancel.Token));
        if (reopened is not null)
        {
            await CallAsync("scan after open", () => reopened.ScanAsync(KeyRange.All, cancellationToken: cancel.Token).ToListAsync(cancel.Token).AsTask());
            await CallAsync("close after open", () => reopened.CloseAsync(cancel.Token).AsTask());
        }

        var report = $"area={areaName} answer={kind} {(retrying ? "retrying" : "direct")} seed={seed}:\n" +
            string.Join("\n", outcomes.Select(o => $"  {o.Call}: {o.Outcome}")) + "\nfault log:\n" + chaos.Log.Tail(30);
        TestContext.Out.WriteLine(report);
        Assert.That(outcomes.Where(o => o.Outcome.StartsWith("hang", StringComparison.Ordinal) || o.Outcome.StartsWith("untyped", StringComparison.Ordinal)), Is.Empty, report);
        Assert.That(outcomes.Count(o => o.Outcome.StartsWith("failed", StringComparison.Ordinal)), Is.GreaterThan(0), "something needed the broken store; " + report);
        if (area is null or StoreArea.Wal or StoreArea.Manifest)
        {
            Assert.That(outcomes.Single(o => o.Call == "open").Outcome, Does.StartWith("failed"), "an open needs the wal and the manifest; " + report);
        }

        async Task CallAsync(string what, Func<Task> call)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                // On the pool: a call that loops without ever yielding must still meet the bound.
                await Task.Run(call).WaitAsync(PermanentBound);
                outcomes.Add((what, $"succeeded in {clock.Elapsed.TotalSeconds:0.00} s"));
            }
            catch (TimeoutException)
            {
                outcomes.Add((what, $"hang: no answer within {PermanentBound.TotalSeconds:0} s"));

                // Stop the call: cancel it and make every request fail, so nothing keeps spinning after the test.
                await cancel.CancelAsync();
                chaos.BreakPermanently();
            }
            catch (SlateSharpException e)
            {
                outcomes.Add((what, $"failed in {clock.Elapsed.TotalSeconds:0.00} s: {e.Kind}{(e.CloseReason is { } r ? "/" + r : "")}: {e.Message}"));
            }
            catch (Exception e)
            {
                outcomes.Add((what, $"untyped {e.GetType().Name} in {clock.Elapsed.TotalSeconds:0.00} s: {e.Message}"));
            }
        }
    }

    private static TestCaseData Case(string store, string profile, bool retrying, int seed) =>
        new TestCaseData(store, profile, retrying, seed).SetArgDisplayNames(store, profile, retrying ? "retrying" : "direct", $"seed={seed}");

    private static List<int> Seeds()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("SLATESHARP_TEST_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var one))
        {
            return [one];
        }

        var count = int.TryParse(Environment.GetEnvironmentVariable("SLATESHARP_FAULT_SEEDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : DefaultSeeds;
        return [.. Enumerable.Range(1, count)];
    }

    /// <summary>Odd seeds run the embedded compactor, even seeds do not: the model must hold either way.</summary>
    private static DbOptions Options(int seed, bool compaction = true, TimeProvider? time = null) =>
        DbModelRun.SmallOptions(seed, retryTimeouts: TimeSpan.FromSeconds(2), compaction: compaction, time: time);

    /// <summary>The retrying decorator as the cloud stores use it, with waits short enough for a test.</summary>
    private static RetryingObjectStore Retrying(IObjectStore inner, int seed)
    {
        var options = new RetryOptions
        {
            MaxAttempts = 5,
            InitialBackoff = TimeSpan.FromMilliseconds(1),
            MaxBackoff = TimeSpan.FromMilliseconds(10),
            MaxElapsed = TimeSpan.FromSeconds(1),
        };
        var retrier = new Retrier(options, TimeProvider.System, new RandomSource((ulong)seed), NullLogger.Instance);
        return new RetryingObjectStore(inner, retrier, new RandomSource((ulong)seed + 1));
    }

    /// <summary>Answers every WAL put as stored, and deletes each one right after storing it.</summary>
    private sealed class ForgetfulStore(IObjectStore inner) : IObjectStore
    {
        public string Location => inner.Location;

        public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.HeadAsync(path, cancellationToken);

        public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) => inner.GetAsync(path, range, cancellationToken);

        public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
        {
            var result = await inner.PutAsync(path, content, options, cancellationToken);
            if (result.Stored && content.Length > 0 && ChaosObjectStore.AreaOf(path.Value) == StoreArea.Wal)
            {
                await inner.DeleteAsync(path, cancellationToken);
            }

            return result;
        }

        public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
            inner.PutAsync(path, content, options, cancellationToken);

        public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);
    }

    private static ReadOnlyMemory<byte> Key(int i) => System.Text.Encoding.UTF8.GetBytes($"key-{i:D5}");

    private static ReadOnlyMemory<byte> Value(int i) => System.Text.Encoding.UTF8.GetBytes($"value-{i}-" + new string('v', 60));
}
