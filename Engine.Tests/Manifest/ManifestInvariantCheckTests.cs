using SlateSharp.Manifest;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Manifest;

/// <summary>Updates that would break a manifest rule are refused before anything is written.</summary>
public sealed class ManifestInvariantCheckTests
{
    private InMemoryObjectStore _objects = null!;
    private ManifestStore _store = null!;

    [SetUp]
    public void CreateStore()
    {
        _objects = new InMemoryObjectStore();
        _store = new ManifestStore(_objects);
    }

    [TearDown]
    public async Task DisposeStores()
    {
        await _objects.DisposeAsync();
    }

    [Test]
    public async Task Moving_the_wal_position_backwards_is_refused()
    {
        using var writer = await FenceableManifest.InitWriterAsync(_store, ManifestOptions.Default, CancellationToken.None);
        await writer.UpdateAsync(m => m with { ReplayAfterWalId = 5, NextWalId = 6 }, CancellationToken.None);

        await AssertRefusedAsync(writer, m => m with { ReplayAfterWalId = 4 }, "replay_after_wal_id must never decrease");
    }

    [Test]
    public async Task Referencing_an_sst_nobody_wrote_is_refused()
    {
        using var writer = await FenceableManifest.InitWriterAsync(_store, ManifestOptions.Default, CancellationToken.None);

        await AssertRefusedAsync(writer, TestManifests.AddL0(TestManifests.Handle("ghost")), "has not written");
    }

    [Test]
    public async Task Duplicate_sst_ids_are_refused()
    {
        using var writer = await FenceableManifest.InitWriterAsync(_store, ManifestOptions.Default, CancellationToken.None);
        var sst = TestManifests.Handle("twice");

        await AssertRefusedAsync(writer, m => m with { L0 = [sst, sst] }, "duplicate sst id", [sst.Id]);
    }

    [Test]
    public async Task Only_claims_change_epochs()
    {
        using var writer = await FenceableManifest.InitWriterAsync(_store, ManifestOptions.Default, CancellationToken.None);

        await AssertRefusedAsync(writer, m => m with { WriterEpoch = m.WriterEpoch + 5 }, "must not change epochs");
    }

    [Test]
    public async Task The_writer_may_not_touch_sorted_runs_and_the_compactor_may_not_add_to_l0()
    {
        using var writer = await FenceableManifest.InitWriterAsync(_store, ManifestOptions.Default, CancellationToken.None);
        using var compactor = await FenceableManifest.InitCompactorAsync(_store, ManifestOptions.Default, CancellationToken.None);
        var sst = TestManifests.Handle("x");
        await writer.RefreshAsync(CancellationToken.None);

        await AssertRefusedAsync(writer, m => m with { SortedRuns = [new SortedRun(0, [sst])] }, "only the compactor may change sorted runs", [sst.Id]);
        await AssertRefusedAsync(compactor, m => m with { L0 = [sst] }, "never add them", [sst.Id]);
    }

    [Test]
    public async Task A_claim_that_keeps_losing_gives_up_after_the_timeout_with_a_clear_error()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(1));
        var options = new ManifestOptions(TimeSpan.FromSeconds(30), clock);
        var store = new ManifestStore(new AlwaysTakenStore(_objects));

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await FenceableManifest.InitWriterAsync(store, options, CancellationToken.None));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain("could not claim the writer epoch"));
    }

    private async Task AssertRefusedAsync(FenceableManifest holder, Func<DbManifest, DbManifest> change, string reason, IReadOnlyCollection<SstId>? written = null)
    {
        var before = await _objects.ListAsync(string.Empty).CountAsync();

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await holder.UpdateAsync(change, written ?? [], CancellationToken.None));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Internal));
        Assert.That(error.Message, Does.Contain("manifest invariant violated").And.Contain(reason));
        Assert.That(await _objects.ListAsync(string.Empty).CountAsync(), Is.EqualTo(before), "nothing is written");
        Assert.That(holder.IsFenced, Is.False);
    }

    /// <summary>A store where every create-if-absent of a manifest loses, as if other parties always won first.</summary>
    private sealed class AlwaysTakenStore(IObjectStore inner) : IObjectStore
    {
        public string Location => inner.Location;

        public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.HeadAsync(path, cancellationToken);

        public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) => inner.GetAsync(path, range, cancellationToken);

        public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(PutResult.AlreadyExists);

        public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(PutResult.AlreadyExists);

        public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);
    }
}
