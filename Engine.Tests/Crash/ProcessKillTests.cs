using System.Globalization;
using SlateSharp.Common;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// Real process kills (docs/reliability.md, "Process-kill tests"): a child process writes through the public API and
/// dies by SIGKILL, at random moments and at each named crash point inside the engine; the reopened database must
/// show every acknowledged write (or a later one), nothing that was never written, and no deleted value again.
/// SLATESHARP_CRASH_CYCLES (run-tests.sh --cycles N) sets the number of cycles per store; SLATESHARP_TEST_SEED the seed.
/// </summary>
[TestFixtureSource(typeof(CrashStores), nameof(CrashStores.All))]
public sealed class ProcessKillTests(CrashStore store)
{
    private TestDirectory? _logs;
    private bool _keepLogs;

    /// <summary>Kill cycles per store and test: 30 by default.</summary>
    private static int Cycles =>
        int.TryParse(TestEnvironment.Get("SLATESHARP_CRASH_CYCLES"), NumberStyles.None, CultureInfo.InvariantCulture, out var cycles) && cycles > 0 ? cycles : 30;

    [OneTimeSetUp]
    public void CreateLogDirectory() => _logs = new TestDirectory();

    [OneTimeTearDown]
    public async Task CleanUp()
    {
        if (_keepLogs)
        {
            // A failure's databases and ack logs stay for inspection.
            TestContext.Out.WriteLine($"ack logs kept in {_logs!.Path}; the databases stay in the store");
            return;
        }

        await store.DisposeAsync();
        _logs?.Dispose();
    }

    [Test]
    public async Task Acknowledged_writes_survive_sigkill_at_random_moments_and_at_every_crash_point()
    {
        var seed = TestSeeds.Get(9_009);
        var stats = await RunAsync(seed, CrashWorkload.Writers, Cycles, cyclesPerDatabase: 10, KillPlan.ForWriters);

        Assert.That(stats.Cycles, Is.EqualTo(Cycles));
        Assert.That(stats.Acknowledged, Is.GreaterThan(0), "the children acknowledged no writes at all");
        Assert.That(stats.MaxL0, Is.GreaterThan(0), "no memtable ever reached L0");
        if (Cycles >= 8)
        {
            Assert.That(stats.CleanCloses, Is.GreaterThan(0), "no child closed the database");
        }

        if (Cycles >= 2 * CrashPoints.All.Count)
        {
            Assert.That(stats.PointsReached, Is.SupersetOf(CrashPoints.All), "every named crash point is reached at least once");
        }
    }

    [Test]
    public async Task A_memtable_acknowledged_prefill_killed_mid_way_keeps_everything_up_to_the_last_flush()
    {
        var seed = TestSeeds.Get(9_019);
        var cycles = Math.Max(3, Cycles / 10);
        var stats = await RunAsync(seed, CrashWorkload.Prefill, cycles, cyclesPerDatabase: 1, KillPlan.ForPrefill);

        Assert.That(stats.Required, Is.GreaterThan(0), "no prefill ever got a flush acknowledged before its kill");
        Assert.That(stats.CyclesWithUnrequiredAcks, Is.GreaterThan(0), "no prefill was killed with memtable acknowledgements after its last flush");
    }

    /// <summary>
    /// Runs the cycles; the first failing one fails the test, unless SLATESHARP_CRASH_KEEP_GOING=1 (for soaks), where
    /// each failure is reported, the next cycle starts on a new database, and the test fails at the end.
    /// </summary>
    private async Task<KillRunStats> RunAsync(int seed, CrashWorkload workload, int cycles, int cyclesPerDatabase, Func<int, int, bool, KillPlan> plan)
    {
        // Fail (or ignore) at once when the store is not there, not in the middle of a cycle.
        _ = store.Url("probe");
        var keepGoing = TestEnvironment.Get("SLATESHARP_CRASH_KEEP_GOING") == "1";
        var failures = new List<string>();
        var run = new KillRun(store, seed, workload, cyclesPerDatabase, _logs!);
        await using (run)
        {
            for (var cycle = 0; cycle < cycles && (keepGoing || failures.Count == 0); cycle++)
            {
                try
                {
                    await run.CycleAsync(plan(seed, cycle, store.IsSlow));
                }
                catch (KillCycleException e)
                {
                    failures.Add(e.Message);
                    TestContext.Out.WriteLine(e.Message);
                    run.StartOver();
                }
            }

            TestContext.Out.WriteLine($"{store.Name} {workload}: {run.Stats}; {failures.Count} failed cycles");
        }

        if (failures.Count > 0)
        {
            _keepLogs = true;
            Assert.Fail((failures.Count > 1 ? $"{failures.Count} cycles failed; the first:{Environment.NewLine}" : string.Empty) + failures[0]);
        }

        return run.Stats;
    }
}
