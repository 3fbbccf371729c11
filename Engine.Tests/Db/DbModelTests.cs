using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// Random, seeded sequences of puts, deletes, range deletes (narrow, wide, empty, and reversed ones that must be
/// refused), counter merges (alone and in batches with puts and deletes of the same keys), batches, gets, get-manys,
/// scans (forward, reverse, limited, keys only, by prefix), flushes and close/reopen cycles, snapshots read long after
/// they were taken, and puts with a TTL or an expiry time under a clock the run moves (see
/// <see cref="DbModelRun"/>), checked after every read against a model and after every reopen against the whole
/// state, with no faults: every error is a failure and every reopen shows every write. Small memtables and WAL
/// objects make the run cross many memtable freezes, L0 flushes, compactions and WAL replays, with snapshots open and
/// expired rows, range deletes and merge operands present; the same seeds run with the embedded compactor on and off,
/// and both must match the model (so each other). 120,000 operations in all; each case must have exercised every kind
/// of operation above. <see cref="FaultModelTests"/> runs the same workload under injected
/// faults.
/// </summary>
public sealed class DbModelTests
{
    [TestCase("memory", 1, 10_000, true)]
    [TestCase("memory", 1, 10_000, false)]
    [TestCase("memory", 2, 10_000, true)]
    [TestCase("memory", 2, 10_000, false)]
    [TestCase("memory", 3, 10_000, true)]
    [TestCase("memory", 4, 10_000, false)]
    [TestCase("memory", 5, 10_000, true)]
    [TestCase("memory", 6, 10_000, false)]
    [TestCase("local", 7, 10_000, true)]
    [TestCase("local", 7, 10_000, false)]
    [TestCase("local", 8, 10_000, true)]
    [TestCase("local", 9, 10_000, false)]
    public async Task Random_operations_match_a_sorted_dictionary(string storeKind, int defaultSeed, int operations, bool compaction)
    {
        var seed = TestSeeds.Get(defaultSeed);
        using var directory = new TestDirectory();
        using var local = storeKind == "local" ? LocalFileSystemObjectStore.Open(directory.Path) : null;
        IObjectStore store = local is null ? new InMemoryObjectStore() : local;
        var clock = new ManualWallClock();
        var run = new DbModelRun
        {
            Store = store,
            Options = DbModelRun.SmallOptions(seed, compaction: compaction, time: clock),
            Clock = clock,
            Seed = seed,
            Operations = operations,
        };

        await run.RunAsync();

        TestContext.Out.WriteLine(run.Summary());
        Assert.That(run.Findings.Select(f => f.Category), Is.Empty, run.Report($"{storeKind} without faults"));
        Assert.That(run.Reopens, Is.GreaterThan(operations / 200), "the run reopened the database many times");
        Assert.That(run.CompactionJobs, compaction ? Is.GreaterThan(0) : Is.Zero, "compaction ran exactly when enabled");
        Assert.That(run.SnapshotReads, Is.GreaterThan(operations / 20), "snapshots were read");
        Assert.That(run.ExpiredGets, Is.GreaterThan(0), "some gets found their key expired");
        Assert.That(run.RangeDeletesHidingRows, Is.GreaterThan(0), "some range deletes hid live keys");
        Assert.That(run.EmptyRangeDeletes, Is.GreaterThan(0), "some range deletes were empty");
        Assert.That(run.Merges + run.BatchMerges, Is.GreaterThan(operations / 50), "merges were written, alone and in batches");
        Assert.That(run.MergedGets, Is.GreaterThan(0), "some gets folded merge operands");
        Assert.That(new[] { run.GetManys, run.ReverseScans, run.LimitedScans, run.PrefixScans }, Has.All.GreaterThan(0), "get-many, reverse, limited and prefix scans ran");
    }
}
