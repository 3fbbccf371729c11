using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Manifest;

public sealed class ManifestStoreTests
{
    private static readonly ManifestOptions Options = ManifestOptions.Default;

    [Test]
    public async Task An_empty_store_has_no_manifest()
    {
        var store = new ManifestStore(new InMemoryObjectStore());

        Assert.That(await store.ReadLatestAsync(CancellationToken.None), Is.Null);
        Assert.That(await StoredManifest.TryLoadAsync(store, CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task Ids_are_twenty_digit_names_and_parse_back()
    {
        var path = ManifestStore.PathOf(42);

        Assert.That(path.Value, Is.EqualTo("manifest/00000000000000000042.manifest"));
        Assert.That(ManifestStore.TryParseId(path, out var id), Is.True);
        Assert.That(id, Is.EqualTo(42));
        Assert.That(ManifestStore.TryParseId(ObjectPath.Parse("manifest/notes.txt"), out _), Is.False);
        Assert.That(ManifestStore.TryParseId(ObjectPath.Parse("manifest/00000000000000000000.manifest"), out _), Is.False);
        await Task.CompletedTask;
    }

    [Test]
    public async Task Refresh_costs_one_get_when_nothing_changed_and_lists_only_after_many_new_versions()
    {
        var counting = new CountingObjectStore(new InMemoryObjectStore());
        var store = new ManifestStore(counting);
        using var writer = await FenceableManifest.InitWriterAsync(store, Options, CancellationToken.None);
        var reader = (await StoredManifest.TryLoadAsync(store, CancellationToken.None))!;

        counting.Reset();
        await reader.RefreshAsync(CancellationToken.None);
        Assert.That((counting.Gets, counting.Heads, counting.Lists), Is.EqualTo((1, 1, 0)), "unchanged: one GET of id+1, one HEAD of id (still there, so GC has not passed it)");

        await writer.UpdateAsync(m => m with { NextWalId = m.NextWalId + 1 }, CancellationToken.None);
        await writer.UpdateAsync(m => m with { NextWalId = m.NextWalId + 1 }, CancellationToken.None);
        counting.Reset();
        var refreshed = await reader.RefreshAsync(CancellationToken.None);
        Assert.That((counting.Gets, counting.Lists), Is.EqualTo((3, 0)), "two new versions: two hits and one miss");
        Assert.That(refreshed.Id, Is.EqualTo(writer.Id));

        for (var i = 0; i < 6; i++)
        {
            await writer.UpdateAsync(m => m with { NextWalId = m.NextWalId + 1 }, CancellationToken.None);
        }

        counting.Reset();
        refreshed = await reader.RefreshAsync(CancellationToken.None);
        Assert.That(counting.Lists, Is.EqualTo(1), "after four hits the reader lists instead of probing on");
        Assert.That(refreshed.Id, Is.EqualTo(writer.Id));
        Assert.That(refreshed.Manifest, Is.EqualTo(writer.Manifest));
    }

    [Test]
    public async Task A_corrupt_latest_manifest_is_a_data_error_naming_it_not_a_fallback_to_an_older_one()
    {
        var objects = new InMemoryObjectStore();
        var store = new ManifestStore(objects);
        using (await FenceableManifest.InitWriterAsync(store, Options, CancellationToken.None))
        {
        }

        await objects.PutAsync(ManifestStore.PathOf(2), new byte[] { 0x53, 0x4C, 0x4D, 0x46, 1, 0, 0xFF, 0xFF }, PutMode.CreateIfAbsent);

        var load = Assert.ThrowsAsync<SlateSharpException>(async () => await StoredManifest.TryLoadAsync(store, CancellationToken.None));
        var claim = Assert.ThrowsAsync<SlateSharpException>(async () => await FenceableManifest.InitWriterAsync(store, Options, CancellationToken.None));

        foreach (var error in new[] { load!, claim! })
        {
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
            Assert.That(error.Message, Does.Contain("manifest/00000000000000000002.manifest"));
        }
    }

    [Test]
    public async Task A_truncated_latest_manifest_is_a_data_error()
    {
        var objects = new InMemoryObjectStore();
        var store = new ManifestStore(objects);
        var encoded = ManifestCodec.Encode(DbManifest.Empty with { WriterEpoch = 3 });
        await objects.PutAsync(ManifestStore.PathOf(1), encoded.AsMemory(0, encoded.Length / 2), PutMode.CreateIfAbsent);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.ReadLatestAsync(CancellationToken.None));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("manifest/00000000000000000001.manifest"));
    }

    [Test]
    public async Task Foreign_objects_under_the_prefix_are_ignored()
    {
        var objects = new InMemoryObjectStore();
        var store = new ManifestStore(objects);
        using var writer = await FenceableManifest.InitWriterAsync(store, Options, CancellationToken.None);
        await objects.PutAsync(ObjectPath.Parse("manifest/zz-notes.txt"), new byte[] { 1 }, PutMode.Overwrite);

        var latest = await store.ReadLatestAsync(CancellationToken.None);

        Assert.That(latest!.Id, Is.EqualTo(1));
    }
}
