using System.Text;
using SlateSharp.Manifest;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.Reader;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>Checkpoints on the writer: create (after a memtable flush), delete, expire, and the frozen view a reader opens.</summary>
public sealed class CheckpointTests
{
    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    private static DbOptions Options(TimeProvider? time = null) =>
        new() { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 3, TimeProvider = time ?? TimeProvider.System };

    [Test]
    public async Task A_checkpoint_pins_a_manifest_holding_every_write_acknowledged_before_it()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options());
        await db.PutAsync(B("a"), B("1"), WriteOptions.NoWait);

        var checkpoint = await db.CreateCheckpointAsync(new CheckpointOptions { Name = "nightly" });

        Assert.That(checkpoint.Name, Is.EqualTo("nightly"));
        Assert.That(checkpoint.ExpiresAt, Is.Null);
        Assert.That(db.Checkpoints, Is.EqualTo(new[] { checkpoint }));
        var pinned = await new ManifestStore(new SlateSharp.Storage.Decorators.PrefixedObjectStore(store, "db")).ReadAsync(checkpoint.ManifestId, CancellationToken.None);
        Assert.That(pinned!.Manifest.L0, Is.Not.Empty, "the memtable was flushed before the checkpoint was taken");
        Assert.That(pinned.Manifest.LastL0Sequence, Is.GreaterThanOrEqualTo(1UL));
        Assert.That(db.ViewManifest.Checkpoints.Select(c => c.Id), Does.Contain(checkpoint.Id), "the read view moved onto the stored manifest");

        await db.CloseAsync();
        await using var reopened = await SlateSharp.Db.OpenAsync(store, "db", Options());
        Assert.That(reopened.Checkpoints, Is.EqualTo(new[] { checkpoint }));
    }

    [Test]
    public async Task The_frozen_view_of_a_checkpoint_does_not_change_while_the_writer_goes_on()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options());
        await db.PutAsync(B("a"), B("1"));
        await db.PutAsync(B("gone"), B("x"));
        var checkpoint = await db.CreateCheckpointAsync();
        await db.PutAsync(B("a"), B("2"));
        await db.DeleteAsync(B("gone"));
        await db.PutAsync(B("b"), B("new"));

        await using var frozen = await DbReader.OpenAsync(store, "db", new DbReaderOptions { CheckpointId = checkpoint.Id, TimeProvider = new StepClock() });
        Assert.That(frozen.ManifestId, Is.EqualTo(checkpoint.ManifestId));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.PutAsync(B("a"), B("3"));
        await frozen.RefreshAsync(CancellationToken.None);

        Assert.That(S(await frozen.GetAsync(B("a"))), Is.EqualTo("1"));
        Assert.That(S(await frozen.GetAsync(B("gone"))), Is.EqualTo("x"));
        Assert.That(await frozen.GetAsync(B("b")), Is.Null);
        Assert.That(await frozen.ScanAsync(KeyRange.All).Select(kv => Encoding.UTF8.GetString(kv.Key.Span)).ToListAsync(), Is.EqualTo(new[] { "a", "gone" }));
        Assert.That(frozen.ManifestId, Is.EqualTo(checkpoint.ManifestId), "a frozen view never polls");
    }

    [Test]
    public async Task Deleting_is_idempotent_and_a_deleted_or_unknown_checkpoint_cannot_be_opened()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options());
        await db.PutAsync(B("a"), B("1"));
        var kept = await db.CreateCheckpointAsync();
        var deleted = await db.CreateCheckpointAsync();

        await db.DeleteCheckpointAsync(deleted.Id);
        var afterDelete = db.Manifest.Id;
        await db.DeleteCheckpointAsync(deleted.Id);
        await db.DeleteCheckpointAsync(new Guid("5f8a2c1e-0000-4000-8000-000000000001"));

        Assert.That(db.Manifest.Id, Is.EqualTo(afterDelete), "deleting what is not there writes nothing");
        Assert.That(db.Checkpoints.Select(c => c.Id), Is.EqualTo(new[] { kept.Id }));
        var error = Assert.ThrowsAsync<SlateSharpException>(async () =>
            await DbReader.OpenAsync(store, "db", new DbReaderOptions { CheckpointId = deleted.Id, UseLease = false }));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain(deleted.Id.ToString()));
    }

    [Test]
    public async Task An_expired_checkpoint_cannot_be_opened_and_is_dropped_at_the_next_checkpoint_change()
    {
        var store = new InMemoryObjectStore();
        var clock = new ManualClock();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options(clock));
        await db.PutAsync(B("a"), B("1"));
        var shortLived = await db.CreateCheckpointAsync(new CheckpointOptions { Lifetime = TimeSpan.FromHours(1) });
        Assert.That(shortLived.ExpiresAt, Is.EqualTo(clock.GetUtcNow() + TimeSpan.FromHours(1)));

        clock.Advance(TimeSpan.FromHours(2));
        Assert.That(db.Checkpoints, Is.Empty, "expired: no longer listed");
        Assert.That(db.Manifest.Manifest.Checkpoints.Select(c => c.Id), Does.Contain(shortLived.Id), "still stored until a checkpoint change");
        var error = Assert.ThrowsAsync<SlateSharpException>(async () =>
            await DbReader.OpenAsync(store, "db", new DbReaderOptions { CheckpointId = shortLived.Id, UseLease = false, TimeProvider = clock }));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("expired"));

        var next = await db.CreateCheckpointAsync();
        Assert.That(db.Manifest.Manifest.Checkpoints.Select(c => c.Id), Is.EqualTo(new[] { next.Id }));
    }

    [Test]
    public async Task A_checkpoint_write_whose_answer_is_lost_is_stored_once()
    {
        var inner = new InMemoryObjectStore();
        var store = new InterceptingObjectStore(inner);
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Options());
        await db.PutAsync(B("a"), B("1"));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var lost = 0;
        store.OnPut = async (path, _, proceed, _) =>
        {
            var result = await proceed();
            if (path.Value.StartsWith("db/manifest/", StringComparison.Ordinal) && lost++ == 0)
            {
                throw InterceptingObjectStore.AnswerLost(path);
            }

            return result;
        };

        var checkpoint = await db.CreateCheckpointAsync();

        Assert.That(lost, Is.GreaterThanOrEqualTo(1));
        Assert.That(db.Manifest.Manifest.Checkpoints.Count(c => c.Id == checkpoint.Id), Is.EqualTo(1));
    }

    [Test]
    public void Invalid_options_fail_as_invalid()
    {
        var error = Assert.ThrowsAsync<SlateSharpException>(async () =>
        {
            await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Options());
            await db.CreateCheckpointAsync(new CheckpointOptions { Lifetime = TimeSpan.Zero });
        });
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
    }
}
