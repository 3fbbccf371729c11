using SlateSharp.Leases;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Gc;

/// <summary>Each collection rule, on a hand-built database: what it must delete and what it must keep, and why.</summary>
public sealed class GcRuleTests
{
    private static readonly TimeSpan Old = TimeSpan.FromHours(2);

    [Test]
    public async Task Ssts_go_only_when_unreferenced_unpinned_and_old_by_both_mint_time_and_stored_time()
    {
        var world = new GcWorld();
        var referenced = await world.PutSstAsync();
        var orphan = await world.PutSstAsync();
        var pinned = await world.PutSstAsync();
        await world.PutManifestAsync([referenced]);
        world.Time.Advance(Old);
        var mintedNow = await world.PutSstAsync();
        var storedNow = await world.PutSstAsync(mintedAgo: TimeSpan.FromHours(3));
        await world.Objects.PutAsync(ObjectPath.Parse("compacted/notes.txt"), new byte[3], PutMode.Overwrite);

        var report = await world.CollectAsync(pins: () => new HashSet<SstId> { pinned.Id });

        Assert.That(report.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(orphan.Id).Value }));
        Assert.That(report.Ssts.Bytes, Is.EqualTo(100));
        Assert.That(report.Kept, Is.EqualTo(new GcKept(Referenced: 1, PinnedInProcess: 1, TooYoung: 2, FenceKept: 0, Retained: 1, UnparseableName: 1)),
            "one referenced, one pinned, two young (by mint time, by stored time), the only manifest retained, one foreign name");
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(referenced.Id)), Is.True);
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(pinned.Id)), Is.True, "an in-process pin protects an SST whatever its age");
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(mintedNow.Id)), Is.True);
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(storedNow.Id)), Is.True);
        Assert.That(await world.ExistsAsync(ObjectPath.Parse("compacted/notes.txt")), Is.True);
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(orphan.Id)), Is.False);

        var unpinned = await world.CollectAsync();
        Assert.That(unpinned.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(pinned.Id).Value }), "released, the pinned SST goes");
    }

    [Test]
    public async Task An_sst_the_latest_manifest_registers_as_an_unpublished_compaction_output_is_kept_whatever_its_age()
    {
        var world = new GcWorld();
        var registered = await world.PutSstAsync();
        var orphan = await world.PutSstAsync();
        var manifest = DbManifest.Empty with { WriterEpoch = 1, CompactorEpoch = 1, UnpublishedCompactionOutputs = [registered.Id] };
        Assert.That(await world.Manifests.TryWriteAsync(1, manifest, CancellationToken.None), Is.True);
        world.Time.Advance(Old);

        var report = await world.CollectAsync();

        Assert.That(report.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(orphan.Id).Value }), "the unregistered orphan goes");
        Assert.That(report.Kept.Referenced, Is.EqualTo(1), "a registered output counts as referenced");
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(registered.Id)), Is.True);
    }

    [Test]
    public async Task A_checkpoint_keeps_its_manifest_and_what_it_references_until_it_expires()
    {
        var world = new GcWorld();
        var a = await world.PutSstAsync();
        var b = await world.PutSstAsync();
        var c = await world.PutSstAsync();
        await world.PutManifestAsync([a]);
        await world.PutManifestAsync([b]);
        var live = new Checkpoint(Guid.Parse("11111111-1111-1111-1111-111111111111"), 1, world.NowMs, world.NowMs + (long)TimeSpan.FromHours(10).TotalMilliseconds, "live");
        var expired = new Checkpoint(Guid.Parse("22222222-2222-2222-2222-222222222222"), 2, world.NowMs, world.NowMs + (long)TimeSpan.FromHours(1).TotalMilliseconds, null);
        await world.PutManifestAsync([c], checkpoints: [live, expired]);
        world.Time.Advance(Old);

        var report = await world.CollectAsync(new GcOptions { ManifestsKept = 1 });

        Assert.That(report.LiveManifestIds, Is.EqualTo(new ulong[] { 1, 3 }));
        Assert.That(report.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(b.Id).Value }), "b is referenced only by the manifest of the expired checkpoint");
        Assert.That(report.Manifests.Count, Is.Zero, "manifest 1 is pinned, and deletion stops at the first manifest kept");
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(a.Id)), Is.True);

        // Without the live checkpoint, manifest 1, its SST and manifest 2 go.
        await world.PutManifestAsync([c]);
        var after = await world.CollectAsync(new GcOptions { ManifestsKept = 1 });
        Assert.That(after.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(a.Id).Value }));
        Assert.That(after.Manifests.Paths, Is.EqualTo(new[] { ManifestStore.PathOf(1).Value, ManifestStore.PathOf(2).Value }),
            "manifest 3 was the latest until just now: a process may still read through it without a lease");
    }

    [Test]
    public async Task A_reader_lease_keeps_its_manifest_until_it_expires_and_expired_or_unreadable_leases_are_deleted_after_the_grace()
    {
        var world = new GcWorld();
        var a = await world.PutSstAsync();
        var b = await world.PutSstAsync();
        var c = await world.PutSstAsync();
        await world.PutManifestAsync([a]);
        await world.PutManifestAsync([b]);
        await world.PutManifestAsync([c]);
        var holding = Guid.Parse("aaaaaaaa-0000-0000-0000-000000000001");
        var longExpired = Guid.Parse("aaaaaaaa-0000-0000-0000-000000000002");
        var justExpired = Guid.Parse("aaaaaaaa-0000-0000-0000-000000000003");
        await world.PutLeaseAsync(holding, 1, TimeSpan.FromHours(10));
        await world.PutLeaseAsync(longExpired, 2, TimeSpan.FromMinutes(30));
        await world.PutLeaseAsync(justExpired, 2, TimeSpan.FromMinutes(90));
        var oldGarbage = ObjectPath.Parse("leases/torn.lease");
        await world.Objects.PutAsync(oldGarbage, new byte[7], PutMode.Overwrite);
        world.Time.Advance(Old);
        var youngGarbage = ObjectPath.Parse("leases/young.lease");
        await world.Objects.PutAsync(youngGarbage, new byte[7], PutMode.Overwrite);

        var report = await world.CollectAsync(new GcOptions { ManifestsKept = 1 });

        Assert.That(report.LiveManifestIds, Is.EqualTo(new ulong[] { 1, 3 }));
        Assert.That(report.Ssts.Paths, Is.EqualTo(new[] { SstPaths.PathOf(b.Id).Value }), "expired leases protect nothing");
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(a.Id)), Is.True);
        Assert.That(report.Leases.Paths, Is.EquivalentTo(new[] { ReaderLeaseStore.PathOf(longExpired).Value, oldGarbage.Value }));
        Assert.That(await world.ExistsAsync(ReaderLeaseStore.PathOf(holding)), Is.True);
        Assert.That(await world.ExistsAsync(ReaderLeaseStore.PathOf(justExpired)), Is.True, "expired for less than the grace");
        Assert.That(await world.ExistsAsync(youngGarbage), Is.True);
    }

    [Test]
    public async Task A_live_manifest_that_is_missing_is_a_data_error_naming_it_and_nothing_is_deleted()
    {
        var world = new GcWorld();
        var a = await world.PutSstAsync();
        var orphan = await world.PutSstAsync();
        await world.PutManifestAsync([a]);
        await world.PutManifestAsync([]);
        await world.PutWalDataAsync(1);
        await world.PutWalDataAsync(2);
        await world.Objects.DeleteAsync(ManifestStore.PathOf(1));
        world.Time.Advance(TimeSpan.FromDays(3));
        await world.PutLeaseAsync(Guid.NewGuid(), 1, TimeSpan.FromHours(10));
        var before = await world.PathsAsync();

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await world.CollectAsync(new GcOptions { ManifestsKept = 1 }));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain(ManifestStore.PathOf(1).Value));
        Assert.That(await world.PathsAsync(), Is.EqualTo(before));
        Assert.That(await world.ExistsAsync(SstPaths.PathOf(orphan.Id)), Is.True);
    }

    [Test]
    public async Task Manifests_go_as_an_ascending_prefix_that_stops_at_the_first_one_kept()
    {
        var world = new GcWorld();
        for (var i = 0; i < 15; i++)
        {
            await world.PutManifestAsync();
        }

        var reader = Guid.Parse("bbbbbbbb-0000-0000-0000-000000000001");
        await world.PutLeaseAsync(reader, 6, TimeSpan.FromHours(3));
        world.Time.Advance(Old);

        var first = await world.CollectAsync(new GcOptions { ManifestsKept = 3 });
        Assert.That(first.Manifests.Paths, Is.EqualTo(Enumerable.Range(1, 5).Select(i => ManifestStore.PathOf((ulong)i).Value)),
            "manifest 6 is leased: 7..12, old and unpinned, stay behind it");

        // Rewritten just now, manifest 9 is young, and so 8 was the latest until just now: once the lease is gone,
        // deletion stops at 8.
        var nine = await world.Objects.GetAsync(ManifestStore.PathOf(9), ByteRange.All);
        await world.Objects.PutAsync(ManifestStore.PathOf(9), nine!.Data, PutMode.Overwrite);
        await world.Objects.DeleteAsync(ReaderLeaseStore.PathOf(reader));
        var second = await world.CollectAsync(new GcOptions { ManifestsKept = 3 });
        Assert.That(second.Manifests.Paths, Is.EqualTo(new[] { 6, 7 }.Select(i => ManifestStore.PathOf((ulong)i).Value)));
        Assert.That(second.LiveManifestIds, Is.EqualTo(new ulong[] { 8, 15 }));

        world.Time.Advance(Old);
        var third = await world.CollectAsync(new GcOptions { ManifestsKept = 3 });
        Assert.That(third.Manifests.Paths, Is.EqualTo(new[] { 8, 9, 10, 11, 12 }.Select(i => ManifestStore.PathOf((ulong)i).Value)));
        Assert.That(await world.PathsAsync(ManifestStore.Prefix), Is.EqualTo(new[] { 13, 14, 15 }.Select(i => ManifestStore.PathOf((ulong)i).Value)));

        var last = await world.CollectAsync(new GcOptions { ManifestsKept = 1, ManifestMinAge = TimeSpan.FromMinutes(1) });
        Assert.That(last.Manifests.Count, Is.EqualTo(2));
        Assert.That(await world.PathsAsync(ManifestStore.Prefix), Is.EqualTo(new[] { ManifestStore.PathOf(15).Value }), "never the latest");
    }

    [Test]
    public async Task A_holder_whose_manifest_was_collected_still_finds_the_latest()
    {
        var world = new GcWorld();
        for (var i = 0; i < 12; i++)
        {
            await world.PutManifestAsync();
        }

        var held = (await world.Manifests.ReadAsync(1, CancellationToken.None))!;
        var latestHeld = (await world.Manifests.ReadAsync(12, CancellationToken.None))!;
        world.Time.Advance(Old);
        var report = await world.CollectAsync(new GcOptions { ManifestsKept = 5 });
        Assert.That(report.Manifests.Count, Is.EqualTo(7));

        // Manifest 2 is missing, as it would be if 1 were the latest; 1 being gone too says GC passed it.
        var refreshed = await world.Manifests.RefreshAsync(held, CancellationToken.None);
        Assert.That(refreshed.Id, Is.EqualTo(12));
        Assert.That((await world.Manifests.RefreshAsync(latestHeld, CancellationToken.None)).Id, Is.EqualTo(12));
    }

    [Test]
    public async Task Wal_objects_go_at_or_below_the_lowest_live_replay_point_when_old_never_the_newest_and_fences_only_after_their_age()
    {
        var world = new GcWorld();
        foreach (var id in new ulong[] { 1, 4, 6, 7, 8, 9, 10 })
        {
            await world.PutWalDataAsync(id);
        }

        await world.PutWalFenceAsync(2);
        await world.Objects.PutAsync(WalPaths.PathOf(3), Array.Empty<byte>(), PutMode.CreateIfAbsent); // a format 1 fence
        await world.PutManifestAsync(replayAfterWalId: 4);
        await world.PutManifestAsync(replayAfterWalId: 8);
        var reader = Guid.NewGuid();
        await world.PutLeaseAsync(reader, 1, TimeSpan.FromHours(3));
        world.Time.Advance(Old);
        await world.PutWalDataAsync(5);

        var leased = await world.CollectAsync();
        Assert.That(leased.WalObjects.Paths, Is.EqualTo(new[] { WalPaths.PathOf(1).Value, WalPaths.PathOf(4).Value }),
            "the leased manifest replays after 4: 2 and 3 are fences, above 4 it needs every object");
        Assert.That(leased.Kept.FenceKept, Is.EqualTo(2));

        await world.Objects.DeleteAsync(ReaderLeaseStore.PathOf(reader));
        var report = await world.CollectAsync();
        Assert.That(report.WalObjects.Paths, Is.EqualTo(new ulong[] { 6, 7, 8 }.Select(i => WalPaths.PathOf(i).Value)));
        Assert.That(await world.ExistsAsync(WalPaths.PathOf(5)), Is.True, "stored 0 s ago");
        Assert.That(await world.ExistsAsync(WalPaths.PathOf(9)), Is.True, "above the replay point");
        Assert.That(await world.ExistsAsync(WalPaths.PathOf(2)), Is.True, "a fence younger than FenceMinAge");

        await world.PutManifestAsync(replayAfterWalId: 10);
        world.Time.Advance(TimeSpan.FromHours(23));
        var later = await world.CollectAsync();
        Assert.That(later.WalObjects.Paths, Is.EqualTo(new ulong[] { 2, 3, 5, 9 }.Select(i => WalPaths.PathOf(i).Value)));
        Assert.That(await world.PathsAsync(WalPaths.Prefix), Is.EqualTo(new[] { WalPaths.PathOf(10).Value }), "never the highest-id wal object");
    }

    [Test]
    public async Task A_dry_run_reports_exactly_what_a_real_run_then_deletes_and_deletes_nothing()
    {
        var world = new GcWorld();
        var a = await world.PutSstAsync();
        await world.PutSstAsync();
        await world.PutSstAsync();
        for (ulong id = 1; id <= 6; id++)
        {
            await world.PutWalDataAsync(id);
        }

        for (var i = 0; i < 4; i++)
        {
            await world.PutManifestAsync(i == 0 ? [] : [a], replayAfterWalId: 5);
        }

        await world.PutLeaseAsync(Guid.NewGuid(), 2, TimeSpan.FromMinutes(1));
        world.Time.Advance(Old);
        var options = new GcOptions { ManifestsKept = 2 };
        var before = await world.PathsAsync();

        var dry = await world.CollectAsync(new GcOptions { ManifestsKept = 2, DryRun = true });

        Assert.That(dry.DryRun, Is.True);
        Assert.That(await world.PathsAsync(), Is.EqualTo(before), "a dry run deletes nothing");
        Assert.That((dry.Ssts.Count, dry.Manifests.Count, dry.WalObjects.Count, dry.Leases.Count), Is.EqualTo((2, 2, 5, 1)));
        var real = await world.CollectAsync(options);
        foreach (var kind in Enum.GetValues<GcObjectKind>())
        {
            Assert.That(real.Of(kind), Is.EqualTo(dry.Of(kind)).Using<GcDeletions>((x, y) => x.Count == y.Count && x.Bytes == y.Bytes && x.Paths.SequenceEqual(y.Paths)), kind.ToString());
        }

        Assert.That(await world.PathsAsync(), Is.EquivalentTo(before.Except(dry.Ssts.Paths.Concat(dry.Manifests.Paths).Concat(dry.WalObjects.Paths).Concat(dry.Leases.Paths))));
    }

    [Test]
    public void Options_out_of_range_are_invalid_naming_the_option()
    {
        foreach (var (options, name) in new (GcOptions, string)[]
        {
            (new GcOptions { ManifestsKept = 0 }, "ManifestsKept"),
            (new GcOptions { SstMinAge = TimeSpan.Zero }, "SstMinAge"),
            (new GcOptions { FenceMinAge = TimeSpan.FromMinutes(1) }, "FenceMinAge"),
            (new GcOptions { Interval = TimeSpan.Zero }, "Interval"),
            (new GcOptions { LeaseGrace = TimeSpan.FromSeconds(-1) }, "LeaseGrace"),
        })
        {
            var error = Assert.Throws<SlateSharpException>(options.Validate);
            Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
            Assert.That(error.Message, Does.Contain(name));
        }

        Assert.That(() => new DbOptions { GarbageCollection = new GcOptions { ManifestsKept = 0 } }.Validate(), Throws.TypeOf<SlateSharpException>());
    }
}
