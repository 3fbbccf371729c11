using System.Collections.Concurrent;
using SlateSharp.Manifest;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Manifest;

/// <summary>The fencing protocol against every backend of the conformance suite.</summary>
[TestFixtureSource(typeof(StoreTargets), nameof(StoreTargets.All))]
public sealed class FenceableManifestTests(StoreTarget target) : StoreTargetFixture(target)
{
    private static readonly ManifestOptions Options = ManifestOptions.Default with { UpdateTimeout = TimeSpan.FromMinutes(5) };

    [Test]
    public async Task A_second_writer_fences_the_first_which_then_writes_nothing_more()
    {
        var counting = new CountingObjectStore(Store);
        using var first = await FenceableManifest.InitWriterAsync(new ManifestStore(counting), Options, CancellationToken.None);
        var firstSst = TestManifests.Handle("first");
        await first.UpdateAsync(TestManifests.AddL0(firstSst), [firstSst.Id], CancellationToken.None);

        using var second = await FenceableManifest.InitWriterAsync(new ManifestStore(Store), Options, CancellationToken.None);
        var before = await SnapshotAsync();
        var late = TestManifests.Handle("late");
        var fenced = Assert.ThrowsAsync<SlateSharpException>(async () => await first.UpdateAsync(TestManifests.AddL0(late), [late.Id], CancellationToken.None));
        var after = await SnapshotAsync();

        Assert.That(fenced!.Kind, Is.EqualTo(ErrorKind.Closed));
        Assert.That(fenced.CloseReason, Is.EqualTo(CloseReason.Fenced));
        Assert.That(fenced.Message, Does.Contain("epoch=1").And.Contain("stored_epoch=2"));
        Assert.That(after, Is.EqualTo(before), "the fenced writer's attempt must leave the store as it was");
        Assert.That(first.IsFenced, Is.True);
        Assert.That(second.Epoch, Is.GreaterThan(first.Epoch));

        counting.Reset();
        var again = Assert.ThrowsAsync<SlateSharpException>(async () => await first.UpdateAsync(TestManifests.AddL0(late), CancellationToken.None));
        var refresh = Assert.ThrowsAsync<SlateSharpException>(async () => await first.RefreshAsync(CancellationToken.None));
        Assert.That(again!.IsFenced && refresh!.IsFenced, Is.True);
        Assert.That(counting.Total, Is.Zero, "once fenced, every call fails without touching storage");

        var secondSst = TestManifests.Handle("second");
        var stored = await second.UpdateAsync(TestManifests.AddL0(secondSst), [secondSst.Id], CancellationToken.None);
        Assert.That(stored.L0.Select(h => h.Id), Is.EqualTo(new[] { secondSst.Id, firstSst.Id }));
    }

    [Test]
    public async Task Contending_writers_keep_one_linear_chain_with_every_successful_update()
    {
        const int Parties = 8;
        var updatesEach = Target.IsSlow ? 6 : 200;
        var store = new ManifestStore(Store);
        var successes = new ConcurrentBag<(ulong Id, SstId Sst)>();
        var claims = new ConcurrentBag<(ulong Id, ulong Epoch)>();

        await Task.WhenAll(Enumerable.Range(0, Parties).Select(p => Task.Run(async () =>
        {
            FenceableManifest? holder = null;
            for (var done = 0; done < updatesEach;)
            {
                if (holder is null || holder.IsFenced)
                {
                    holder?.Dispose();
                    holder = await FenceableManifest.InitWriterAsync(store, Options, CancellationToken.None);
                    claims.Add((holder.Id, holder.Epoch));
                }

                var sst = TestManifests.Handle($"p{p}-u{done}");
                try
                {
                    await holder.UpdateAsync(TestManifests.AddL0(sst), [sst.Id], CancellationToken.None);
                    successes.Add((holder.Id, sst.Id));
                    done++;
                }
                catch (SlateSharpException e) when (e.IsFenced)
                {
                }
            }

            holder?.Dispose();
        })));

        var latest = (await store.ReadLatestAsync(CancellationToken.None))!;
        var chain = new List<DbManifest>();
        for (ulong id = 1; id <= latest.Id; id++)
        {
            chain.Add((await store.ReadAsync(id, CancellationToken.None))!.Manifest);
        }

        Assert.That(successes.Select(s => s.Id).Distinct().Count(), Is.EqualTo(successes.Count), "no two updates share an id");
        Assert.That(successes.Count + claims.Count, Is.EqualTo((int)latest.Id), "every version is a claim or an update");
        var orderedClaims = claims.OrderBy(c => c.Id).ToList();
        Assert.That(orderedClaims.Select(c => c.Epoch), Is.Ordered.Ascending.And.Unique, "epochs strictly increase along the chain");
        for (var i = 1; i < chain.Count; i++)
        {
            Assert.That(chain[i].WriterEpoch, Is.GreaterThanOrEqualTo(chain[i - 1].WriterEpoch));
        }

        var final = TestManifests.AllSsts(latest.Manifest).ToHashSet();
        foreach (var (id, sst) in successes)
        {
            Assert.That(TestManifests.AllSsts(chain[(int)id - 1]), Does.Contain(sst), $"update at id {id} is in its version");
            Assert.That(final, Does.Contain(sst), $"update at id {id} survives to the final version");
        }
    }

    [Test]
    public async Task A_writer_and_a_compactor_updating_concurrently_both_succeed()
    {
        var flushes = Target.IsSlow ? 8 : 60;
        var store = new ManifestStore(Store);
        using var writer = await FenceableManifest.InitWriterAsync(store, Options, CancellationToken.None);
        using var compactor = await FenceableManifest.InitCompactorAsync(store, Options, CancellationToken.None);
        var written = new ConcurrentBag<SstId>();
        var compacted = new ConcurrentBag<SstId>();
        var writerDone = false;

        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < flushes; i++)
            {
                var sst = TestManifests.Handle($"l0-{i:D3}");
                await writer.UpdateAsync(TestManifests.AddL0(sst), [sst.Id], CancellationToken.None);
                written.Add(sst.Id);
            }

            Volatile.Write(ref writerDone, true);
        });
        var compacting = Task.Run(async () =>
        {
            while (true)
            {
                var done = Volatile.Read(ref writerDone);
                var current = await compactor.RefreshAsync(CancellationToken.None);
                if (current.L0.Count < 2)
                {
                    if (done && current.L0.Count == 0)
                    {
                        break;
                    }

                    if (done)
                    {
                        await CompactAsync(compactor, current.L0.ToList(), compacted);
                    }

                    continue;
                }

                await CompactAsync(compactor, current.L0.TakeLast(2).ToList(), compacted);
            }
        });
        await Task.WhenAll(writing, compacting);

        var final = (await store.ReadLatestAsync(CancellationToken.None))!.Manifest;
        Assert.That(final.L0, Is.Empty);
        Assert.That(compacted.Order(), Is.EqualTo(written.Order()), "every flushed sst was compacted exactly once");
        Assert.That(final.SortedRuns, Has.Count.EqualTo(1));
        Assert.That(final.ReplayAfterWalId, Is.EqualTo((ulong)flushes), "the compactor never undid the writer's wal position");
        Assert.That(final.WriterEpoch, Is.EqualTo(writer.Epoch));
        Assert.That(final.CompactorEpoch, Is.EqualTo(compactor.Epoch));
    }

    [Test]
    public async Task A_thousand_consecutive_updates_by_one_writer_never_conflict()
    {
        var updates = Target.IsSlow ? 60 : 1000;
        var store = new ManifestStore(Store);
        using var writer = await FenceableManifest.InitWriterAsync(store, Options, CancellationToken.None);
        var conflictsBefore = store.Conflicts;

        for (var i = 0; i < updates; i++)
        {
            var sst = TestManifests.Handle($"flush-{i}");
            await writer.UpdateAsync(m => m with { L0 = [sst], NextWalId = m.NextWalId + 1, ReplayAfterWalId = m.NextWalId, LastL0Sequence = (ulong)i }, [sst.Id], CancellationToken.None);
        }

        Assert.That(store.Conflicts - conflictsBefore, Is.Zero, "a writer's next update must never trip over its own previous write");
        Assert.That(writer.Id, Is.EqualTo((ulong)updates + 1));
        Assert.That((await store.ReadLatestAsync(CancellationToken.None))!.Manifest, Is.EqualTo(writer.Manifest));
    }

    private static async Task CompactAsync(FenceableManifest compactor, List<SstHandle> inputs, ConcurrentBag<SstId> compacted)
    {
        if (inputs.Count == 0)
        {
            return;
        }

        var output = TestManifests.Handle("run");
        var ids = inputs.Select(h => h.Id).ToHashSet();
        await compactor.UpdateAsync(
            m => m with { L0 = m.L0.Where(h => !ids.Contains(h.Id)).ToList(), SortedRuns = [new SortedRun(0, [output])] },
            [output.Id], CancellationToken.None);
        foreach (var id in ids)
        {
            compacted.Add(id);
        }
    }

    private async Task<List<string>> SnapshotAsync() =>
        await Store.ListAsync(string.Empty).Select(m => $"{m.Path} {m.Size} {m.Version}").ToListAsync();
}
