using System.Collections.Concurrent;
using SlateSharp.Manifest;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Manifest;

/// <summary>
/// Two writers and a compactor run the claim/update protocol against one store, paused before and after every
/// request and moved one at a time in a seeded order, so every schedule is replayable from its seed. Each schedule
/// checks the fencing guarantees: one linear chain of versions; the older writer's updates all land before the newer
/// writer's claim; a fenced party stops touching storage; the compactor's and writers' changes both survive.
/// </summary>
public sealed class FencingInterleavingTests
{
    private const int Schedules = 300;

    [Test]
    public async Task Every_seeded_interleaving_keeps_the_fencing_guarantees()
    {
        var baseSeed = TestSeeds.Get(4_000);
        int fenced = 0, olderWroteFirst = 0, compactorRaced = 0;
        for (var i = 0; i < Schedules; i++)
        {
            var seed = baseSeed + i;
            var outcome = await RunScheduleAsync(seed);
            Check(outcome, seed);
            fenced += outcome.FencedAtStep.Count;
            olderWroteFirst += outcome.Updates.Any(u => u.Party == Older(outcome)) ? 1 : 0;
            compactorRaced += outcome.Trace.Any(t => t.StartsWith("C: put", StringComparison.Ordinal) && t.EndsWith("AlreadyExists", StringComparison.Ordinal)) ? 1 : 0;
        }

        TestContext.Out.WriteLine($"{Schedules} schedules: {fenced} fenced writers, {olderWroteFirst} with updates by the older writer, {compactorRaced} with a compactor losing a race");
        Assert.That(fenced, Is.GreaterThan(Schedules / 20), "the schedules must exercise fencing");
        Assert.That(olderWroteFirst, Is.GreaterThan(Schedules / 10), "the schedules must let the older writer write before it is fenced");
        Assert.That(compactorRaced, Is.GreaterThan(0), "the schedules must make the compactor re-apply its change");
    }

    private static string Older(Outcome outcome) => outcome.Claims["A"].Epoch < outcome.Claims["B"].Epoch ? "A" : "B";

    [Test]
    public async Task The_same_seed_replays_the_same_interleaving()
    {
        var seed = TestSeeds.Get(77);

        var first = await RunScheduleAsync(seed);
        var second = await RunScheduleAsync(seed);

        Assert.That(first.Trace, Is.Not.Empty);
        Assert.That(first.Trace, Is.EqualTo(second.Trace));
    }

    private static async Task<Outcome> RunScheduleAsync(int seed)
    {
        var scheduler = new StepScheduler(new Random(seed));
        var store = new ManifestStore(new SteppingObjectStore(new InMemoryObjectStore(), scheduler));
        var options = ManifestOptions.Default;
        var outcome = new Outcome(scheduler.Trace);

        Func<Task> Writer(string name, int updates) => async () =>
        {
            using var writer = await FenceableManifest.InitWriterAsync(store, options, CancellationToken.None);
            outcome.Claims[name] = (writer.Id, writer.Epoch);
            for (var u = 0; u < updates; u++)
            {
                var sst = TestManifests.Handle($"{name}{u}");
                try
                {
                    await writer.UpdateAsync(TestManifests.AddL0(sst), [sst.Id], CancellationToken.None);
                    outcome.Updates.Add((name, writer.Id, sst.Id));
                }
                catch (SlateSharpException e) when (e.IsFenced)
                {
                    outcome.FencedAtStep[name] = scheduler.StepsByParty.GetValueOrDefault(name);
                    return;
                }
            }
        };

        async Task Compactor()
        {
            using var compactor = await FenceableManifest.InitCompactorAsync(store, options, CancellationToken.None);
            for (var u = 0; u < 2; u++)
            {
                var output = TestManifests.Handle($"C{u}");
                SstId? removed = null;
                await compactor.UpdateAsync(
                    m =>
                    {
                        if (m.L0.Count == 0)
                        {
                            removed = null;
                            return m;
                        }

                        removed = m.L0[^1].Id;
                        return m with { L0 = m.L0.Take(m.L0.Count - 1).ToList(), SortedRuns = [new SortedRun(0, [output])] };
                    },
                    [output.Id], CancellationToken.None);
                if (removed is { } id)
                {
                    outcome.Compacted.Add(id);
                }
            }
        }

        await scheduler.RunAsync(new Dictionary<string, Func<Task>>
        {
            ["A"] = Writer("A", 3),
            ["B"] = Writer("B", 2),
            ["C"] = Compactor,
        });

        outcome.Chain.AddRange(await ReadChainAsync(store));
        outcome.FinalSteps = new Dictionary<string, int>(scheduler.StepsByParty);
        return outcome;
    }

    private static async Task<List<DbManifest>> ReadChainAsync(ManifestStore store)
    {
        var chain = new List<DbManifest>();
        for (ulong id = 1; await store.ReadAsync(id, CancellationToken.None) is { } version; id++)
        {
            chain.Add(version.Manifest);
        }

        return chain;
    }

    private static void Check(Outcome outcome, int seed)
    {
        var context = $"seed={seed} (SLATESHARP_TEST_SEED={seed} makes it the first schedule); trace:\n  " + string.Join("\n  ", outcome.Trace);
        var chain = outcome.Chain;
        Assert.That(outcome.Claims.Keys, Is.EquivalentTo(new[] { "A", "B" }), context);
        Assert.That(chain, Has.Count.EqualTo(2 + 1 + outcome.Updates.Count + CompactorWrites(chain)), context);

        var older = Older(outcome);
        var newer = older == "A" ? "B" : "A";
        var newerClaimId = outcome.Claims[newer].Id;
        Assert.That(outcome.Claims[older].Id, Is.LessThan(newerClaimId), context);
        foreach (var (party, id, _) in outcome.Updates.Where(u => u.Party == older))
        {
            Assert.That(id, Is.LessThan(newerClaimId), $"{party}'s update at {id} landed after the newer writer's claim at {newerClaimId}; {context}");
        }

        Assert.That(outcome.FencedAtStep.ContainsKey(newer), Is.False, $"the newest writer must never be fenced; {context}");
        foreach (var (party, steps) in outcome.FencedAtStep)
        {
            Assert.That(outcome.FinalSteps[party], Is.EqualTo(steps), $"{party} touched storage after it was fenced; {context}");
        }

        for (var i = 1; i < chain.Count; i++)
        {
            Assert.That(chain[i].WriterEpoch, Is.GreaterThanOrEqualTo(chain[i - 1].WriterEpoch), context);
            Assert.That(chain[i].CompactorEpoch, Is.GreaterThanOrEqualTo(chain[i - 1].CompactorEpoch), context);
            Assert.That(chain[i].ReplayAfterWalId, Is.GreaterThanOrEqualTo(chain[i - 1].ReplayAfterWalId), context);
        }

        var final = chain[^1].L0.Select(h => h.Id).ToHashSet();
        foreach (var (party, id, sst) in outcome.Updates)
        {
            Assert.That(chain[(int)id - 1].L0.Select(h => h.Id), Does.Contain(sst), $"{party}'s update is missing from version {id}; {context}");
            Assert.That(final.Contains(sst) || outcome.Compacted.Contains(sst), Is.True, $"{party}'s sst vanished without compaction; {context}");
        }
    }

    private static int CompactorWrites(List<DbManifest> chain)
    {
        var writes = 0;
        for (var i = 1; i < chain.Count; i++)
        {
            if (chain[i].WriterEpoch == chain[i - 1].WriterEpoch && chain[i].CompactorEpoch == chain[i - 1].CompactorEpoch &&
                !chain[i].SortedRuns.SequenceEqual(chain[i - 1].SortedRuns))
            {
                writes++;
            }
        }

        return writes;
    }

    private sealed class Outcome(List<string> trace)
    {
        public List<string> Trace { get; } = trace;

        public ConcurrentDictionary<string, (ulong Id, ulong Epoch)> Claims { get; } = new();

        public ConcurrentBag<(string Party, ulong Id, SstId Sst)> Updates { get; } = [];

        public ConcurrentBag<SstId> Compacted { get; } = [];

        public ConcurrentDictionary<string, int> FencedAtStep { get; } = new();

        public Dictionary<string, int> FinalSteps { get; set; } = [];

        public List<DbManifest> Chain { get; } = [];
    }
}
