using System.Text;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>A second writer on the same database fences the first, cleanly.</summary>
[TestFixtureSource(typeof(StoreTargets), nameof(StoreTargets.ForDb))]
public sealed class FencingTests(StoreTarget target) : StoreTargetFixture(target)
{
    private static readonly DbOptions Options = new() { FlushInterval = TimeSpan.FromHours(1), RandomSeed = 3 };

    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public async Task The_old_writer_is_fenced_keeps_failing_and_never_writes_another_object()
    {
        var old = await SlateSharp.Db.OpenAsync(Store, "db", Options);
        await old.PutAsync(B("acknowledged"), B("by the old writer"), WriteOptions.NoWait);
        await old.FlushAsync();
        await old.PutAsync(B("pending"), B("in the old memtable"), WriteOptions.NoWait);

        await using var current = await SlateSharp.Db.OpenAsync(Store, "db", Options);
        await old.PutAsync(B("late"), B("x"), WriteOptions.NoWait);
        var walFlush = Assert.ThrowsAsync<SlateSharpException>(async () => await old.FlushAsync());
        var observedAt = await SnapshotAsync();

        Assert.That(walFlush!.Kind, Is.EqualTo(ErrorKind.Closed));
        Assert.That(walFlush.CloseReason, Is.EqualTo(CloseReason.Fenced));
        Assert.That(walFlush.Message, Does.Contain("fenced"));
        foreach (var call in new Func<Task>[]
        {
            async () => await old.PutAsync(B("again"), B("y"), WriteOptions.NoWait),
            async () => await old.PutAsync(B("durable"), B("z")),
            async () => await old.GetAsync(B("acknowledged")),
            async () => await old.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable }),
            async () => await old.ScanAsync(KeyRange.All).CountAsync(),
            async () => await old.CloseAsync(),
        })
        {
            var error = Assert.ThrowsAsync<SlateSharpException>(async () => await call());
            Assert.That(error!.IsFenced, Is.True, "every later call fails the same way");
        }

        var afterClose = await SnapshotAsync();
        Assert.That(afterClose.Except(observedAt), Is.Empty, "the fenced writer wrote nothing after it learned it was fenced");
        Assert.That(Encoding.UTF8.GetString((await current.GetAsync(B("acknowledged")))!), Is.EqualTo("by the old writer"));
        Assert.That(await current.GetAsync(B("late")), Is.Null);
        await current.PutAsync(B("new"), B("writer works"), WriteOptions.NoWait);
        await current.FlushAsync();
        Assert.That(current.WriterEpoch, Is.GreaterThan(old.WriterEpoch));
    }

    [Test]
    public async Task A_fenced_memtable_flush_leaves_no_orphan_sst()
    {
        var old = await SlateSharp.Db.OpenAsync(Store, "db", Options);
        for (var i = 0; i < 100; i++)
        {
            await old.PutAsync(B($"k{i:D3}"), B(new string('v', 100)), WriteOptions.NoWait);
        }

        await old.FlushAsync();
        await using var current = await SlateSharp.Db.OpenAsync(Store, "db", Options);

        var flush = Assert.ThrowsAsync<SlateSharpException>(async () => await old.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable }));
        Assert.That(flush!.IsFenced, Is.True);
        Assert.ThrowsAsync<SlateSharpException>(async () => await old.CloseAsync());

        var referenced = current.Manifest.Manifest.L0.Select(h => $"db/compacted/{h.Id}.sst").ToHashSet();
        var stored = (await SnapshotAsync()).Select(s => s.Split(' ')[0]).Where(p => p.StartsWith("db/compacted/", StringComparison.Ordinal)).ToList();
        Assert.That(stored.Where(p => !referenced.Contains(p)), Is.Empty, "the fenced writer's sst must be deleted");
        Assert.That(await current.ScanAsync(KeyRange.All).CountAsync(), Is.EqualTo(100), "everything the old writer made durable is replayed");
    }

    private async Task<HashSet<string>> SnapshotAsync() =>
        await Store.ListAsync(string.Empty).Select(m => $"{m.Path} {m.Size} {m.Version}").ToHashSetAsync();
}
