using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Gc;

/// <summary>Failed and ambiguous deletes: reported, never counted as done, retried; for manifests they end the pass.</summary>
public sealed class GcFailureTests
{
    [Test]
    public async Task A_failed_sst_delete_is_reported_not_counted_and_the_next_pass_deletes_it()
    {
        var world = new GcWorld();
        var failing = await world.PutSstAsync();
        var lost = await world.PutSstAsync();
        var fine = await world.PutSstAsync();
        await world.PutManifestAsync();
        world.Time.Advance(TimeSpan.FromHours(2));
        var faults = new DeleteFaultStore(world.Objects);
        world.Store = faults;
        faults.Decide = p => p == SstPaths.PathOf(failing.Id) ? DeleteFault.Fail : p == SstPaths.PathOf(lost.Id) ? DeleteFault.LostAnswer : DeleteFault.None;

        var first = await world.CollectAsync();

        Assert.That(first.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(fine.Id).Value }), "only a confirmed delete counts");
        Assert.That(first.Failures.Select(f => (f.Kind, f.Path)), Is.EquivalentTo(new[]
        {
            (GcObjectKind.Sst, SstPaths.PathOf(failing.Id).Value),
            (GcObjectKind.Sst, SstPaths.PathOf(lost.Id).Value),
        }));
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(failing.Id)), Is.True);

        faults.Decide = _ => DeleteFault.None;
        var second = await world.CollectAsync();
        Assert.That(second.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(failing.Id).Value }));
        Assert.That(second.Failures, Is.Empty);
    }

    [TestCase(DeleteFault.Fail)]
    [TestCase(DeleteFault.LostAnswer)]
    public async Task A_manifest_delete_that_does_not_settle_ends_the_manifest_pass_there(DeleteFault fault)
    {
        var world = new GcWorld();
        for (var i = 0; i < 15; i++)
        {
            await world.PutManifestAsync();
        }

        world.Time.Advance(TimeSpan.FromHours(2));
        var faults = new DeleteFaultStore(world.Objects) { Decide = p => p == ManifestStore.PathOf(3) ? fault : DeleteFault.None };
        world.Store = faults;

        var first = await world.CollectAsync(new GcOptions { ManifestsKept = 3 });

        Assert.That(first.Manifests.Paths, Is.EqualTo(new[] { ManifestStore.PathOf(1).Value, ManifestStore.PathOf(2).Value }));
        Assert.That(first.Failures.Single().Path, Is.EqualTo(ManifestStore.PathOf(3).Value));
        Assert.That(await world.ExistsAsync(ManifestStore.PathOf(4)), Is.True, "nothing past a delete that did not settle");

        faults.Decide = _ => DeleteFault.None;
        var second = await world.CollectAsync(new GcOptions { ManifestsKept = 3 });
        var expected = Enumerable.Range(fault == DeleteFault.Fail ? 3 : 4, fault == DeleteFault.Fail ? 10 : 9).Select(i => ManifestStore.PathOf((ulong)i).Value);
        Assert.That(second.Manifests.Paths, Is.EqualTo(expected));
    }

    /// <summary>
    /// Passes over a store that loses answers, fails transiently and cuts listings: whatever each pass manages, the
    /// latest manifest and everything it references survive, the manifest ids left are always contiguous up to the
    /// latest (a prefix was deleted), every delete reported as done is done, and once the faults stop one pass
    /// finishes the job.
    /// </summary>
    [Test]
    public async Task Under_a_faulty_store_gc_never_deletes_what_is_needed_and_keeps_manifests_a_suffix()
    {
        var seed = TestSeeds.Get(1010);
        var world = new GcWorld(seed);
        var kept = new List<SstHandle>();
        for (var i = 0; i < 30; i++)
        {
            var sst = await world.PutSstAsync();
            kept.Add(sst);
            await world.PutWalDataAsync((ulong)i + 1);
            await world.PutManifestAsync([sst], replayAfterWalId: (ulong)i);
        }

        var profile = FaultProfile.Everything.With(StoreOperation.Delete, null, new FaultRates { Transient = 0.15, AnswerLost = 0.15 });
        var chaos = new ChaosObjectStore(world.Objects, profile, seed, world.Time);
        world.Store = chaos;
        world.Time.Advance(TimeSpan.FromDays(2));
        var latest = kept[^1];
        var options = new GcOptions { ManifestsKept = 2 };
        var failedPasses = 0;
        for (var pass = 0; pass < 8; pass++)
        {
            try
            {
                var report = await world.CollectAsync(options);
                foreach (var path in report.Ssts.Paths.Concat(report.Manifests.Paths).Concat(report.WalObjects.Paths))
                {
                    Assert.That(await world.ExistsAsync(ObjectPath.Parse(path)), Is.False, $"reported deleted but present: {path}");
                }
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
            {
                failedPasses++;
                TestContext.Out.WriteLine($"pass {pass} failed before deleting: {e.Message}");
            }

            var ids = (await world.PathsAsync(ManifestStore.Prefix)).Select(p => ulong.Parse(p["manifest/".Length..^".manifest".Length], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.That(ids[^1], Is.EqualTo(30UL));
            Assert.That(ids, Is.EqualTo(Enumerable.Range((int)ids[0], ids.Count).Select(i => (ulong)i)), "manifests left are contiguous up to the latest");
            Assert.That(await world.ExistsAsync(SstPaths.PathOf(latest.Id)), Is.True);
        }

        chaos.Profile = FaultProfile.None;
        await world.CollectAsync(options);
        TestContext.Out.WriteLine($"{failedPasses} passes failed;");
        Assert.That(await world.PathsAsync(SstPaths.Prefix), Is.EqualTo(new[] { SstPaths.PathOf(latest.Id).Value }));
        Assert.That(await world.PathsAsync(ManifestStore.Prefix), Is.EqualTo(new[] { ManifestStore.PathOf(29).Value, ManifestStore.PathOf(30).Value }));
        Assert.That(await world.PathsAsync("wal/"), Is.EqualTo(new[] { "wal/00000000000000000030.sst" }));
    }
}
