using System.Text;
using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.Format;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Db;

/// <summary>
/// WAL format 2 makes fences self-describing, so a WAL object truncated to zero bytes is corrupt rather than a fence;
/// a database written with format 1 (zero-byte fences) still opens, and from its first format-2 writer on only the
/// ids below that writer's fence may hold zero-byte fences.
/// </summary>
public sealed class WalFormatUpgradeTests
{
    private static readonly DbOptions Options = new() { FlushInterval = TimeSpan.FromMilliseconds(2), RandomSeed = 8 };
    private static readonly DbOptions Skipping = new() { FlushInterval = TimeSpan.FromMilliseconds(2), RandomSeed = 8, SkipCorruptWalTail = true };

    [Test]
    public async Task A_wal_object_truncated_to_zero_bytes_is_corrupt_not_a_fence()
    {
        var store = new InMemoryObjectStore();
        var db = await SlateSharp.Db.OpenAsync(store, "", Options);
        await db.PutAsync(B("kept"), B("1"));
        await db.PutAsync(B("torn"), B("2"));
        var newest = db.Wal.NextId - 1;
        await db.SimulateCrashAsync();
        await store.PutAsync(WalPaths.PathOf(newest), ReadOnlyMemory<byte>.Empty, PutMode.Overwrite);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(store, "", Options));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain(WalPaths.PathOf(newest).Value).And.Contain("zero-byte"));
        await using var skipped = await SlateSharp.Db.OpenAsync(store, "", Skipping);
        Assert.That(skipped.Recovery.SkippedWalObjects.Select(s => (s.Path, s.Size)), Is.EqualTo(new[] { (WalPaths.PathOf(newest).Value, 0L) }));
        Assert.That(S(await skipped.GetAsync(B("kept"))), Is.EqualTo("1"));
    }

    [Test]
    public async Task A_format_1_database_opens_with_its_zero_byte_fences_and_its_next_writer_records_where_they_end()
    {
        // As a format-1 build left it: writer 1 fenced at 1 and wrote 2; writer 2 fenced at 3 and wrote 4.
        var store = new InMemoryObjectStore();
        await Put(store, ManifestStore.PathOf(1), ManifestTestFormat.EncodeV1(DbManifest.Empty with { WriterEpoch = 1 }));
        await Put(store, ManifestStore.PathOf(2), ManifestTestFormat.EncodeV1(DbManifest.Empty with { WriterEpoch = 2 }));
        await Put(store, WalPaths.PathOf(1), []);
        await Put(store, WalPaths.PathOf(2), WalTestFormat.EncodeV1([[RowEntry.Put(B("one"), B("v1"), 1)]]));
        await Put(store, WalPaths.PathOf(3), []);
        await Put(store, WalPaths.PathOf(4), WalTestFormat.EncodeV1([[RowEntry.Put(B("two"), B("v2"), 2)]]));

        var db = await SlateSharp.Db.OpenAsync(store, "", Options);

        Assert.That(db.Recovery.WalFenceId, Is.EqualTo(5));
        Assert.That(db.Recovery.WalObjectsReplayed, Is.EqualTo(2));
        Assert.That(S(await db.GetAsync(B("one"))), Is.EqualTo("v1"));
        Assert.That(S(await db.GetAsync(B("two"))), Is.EqualTo("v2"));
        Assert.That(db.Manifest.Manifest.WalV1FencesBelow, Is.EqualTo(5UL), "zero-byte objects below the first format-2 fence may be format-1 fences");
        var fence = WalObjectCodec.Decode((await store.GetAsync(WalPaths.PathOf(5), ByteRange.All))!.Data, "fence", zeroByteIsFence: false);
        Assert.That((fence.IsFence, fence.FormatVersion, fence.WriterEpoch), Is.EqualTo((true, (ushort)2, (ulong?)3)));

        await db.PutAsync(B("three"), B("v3"));
        await db.SimulateCrashAsync();
        await using var reopened = await SlateSharp.Db.OpenAsync(store, "", Options);
        Assert.That(S(await reopened.GetAsync(B("one"))), Is.EqualTo("v1"), "the format-1 fences below the boundary still read as fences");
        Assert.That(S(await reopened.GetAsync(B("three"))), Is.EqualTo("v3"));
    }

    [Test]
    public async Task A_writer_steps_over_a_stale_fence_of_an_older_writer_at_an_id_it_allocated()
    {
        var store = new InMemoryObjectStore();
        await (await SlateSharp.Db.OpenAsync(store, "", Options)).CloseAsync();
        await using var db = await SlateSharp.Db.OpenAsync(store, "", Options);
        await db.PutAsync(B("before"), B("1"));
        var next = db.Wal.NextId;

        // The epoch-1 writer, had it opened late, would have fenced at our next id and then found itself fenced.
        await Put(store, WalPaths.PathOf(next), WalObjectCodec.EncodeFence(1));
        await db.PutAsync(B("after"), B("2"));

        Assert.That(db.WriterEpoch, Is.EqualTo(2));
        Assert.That(db.Wal.NextId, Is.EqualTo(next + 2), "the write went to the id after the stale fence");
        Assert.That(db.Manifest.IsFenced, Is.False);
        Assert.That(S(await db.GetAsync(B("after"))), Is.EqualTo("2"));
    }

    private static ReadOnlyMemory<byte> B(string text) => Encoding.UTF8.GetBytes(text);

    private static string? S(byte[]? bytes) => bytes is null ? null : Encoding.UTF8.GetString(bytes);

    private static async Task Put(IObjectStore store, ObjectPath path, byte[] content) =>
        await store.PutAsync(path, content, PutMode.CreateIfAbsent);
}
