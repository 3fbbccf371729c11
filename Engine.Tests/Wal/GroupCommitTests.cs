using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Wal;

/// <summary>
/// Group commit: a durable write starts its WAL upload at once (not at the end of the flush interval), and durable
/// writes that arrive while an upload is in flight all go in the next object.
/// </summary>
public sealed class GroupCommitTests
{
    // Longer than any test: an upload that waited for the interval would trip the hang guard instead.
    private static readonly DbOptions NoInterval = new() { FlushInterval = TimeSpan.FromHours(1), RandomSeed = 3, Compaction = new() { Enabled = false } };

    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public async Task A_durable_put_uploads_at_once_and_takes_earlier_memtable_writes_along()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", NoInterval);
        var before = db.GetStats();

        await db.PutAsync(B("early"), B("1"), WriteOptions.NoWait);
        await db.PutAsync(B("durable"), B("2")).AsTask().WaitAsync(HangGuard);

        var after = db.GetStats();
        Assert.That(after.WalObjectsWritten - before.WalObjectsWritten, Is.EqualTo(1), "one object carries both writes");
        Assert.That(after.DurableSequence, Is.EqualTo(after.LastSequence), "the memtable-acknowledged write became durable with it");
    }

    [Test]
    public async Task Durable_writes_arriving_during_an_upload_share_the_next_object()
    {
        var store = new InterceptingObjectStore(new InMemoryObjectStore());
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", NoInterval);
        var walPuts = 0;
        var firstArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.OnPut = async (path, _, proceed, _) =>
        {
            if (path.Value.StartsWith("db/" + WalPaths.Prefix, StringComparison.Ordinal) && Interlocked.Increment(ref walPuts) == 1)
            {
                firstArrived.SetResult();
                await releaseFirst.Task;
            }

            return await proceed();
        };

        var first = db.PutAsync(B("first"), B("v")).AsTask();
        await firstArrived.Task.WaitAsync(HangGuard);
        var during = Enumerable.Range(0, 10).Select(i => db.PutAsync(B($"during-{i}"), B("v")).AsTask()).ToList();
        Assert.That(during.Any(t => t.IsCompleted), Is.False, "nothing is durable while the first upload is held");

        releaseFirst.SetResult();
        await Task.WhenAll([first, .. during]).WaitAsync(HangGuard);

        Assert.That(walPuts, Is.EqualTo(2), "the first object, then one object carrying all ten writes that arrived during it");
        Assert.That(db.GetStats().DurableSequence, Is.EqualTo(db.GetStats().LastSequence));
    }

    [Test]
    public async Task The_upload_cap_spaces_uploads_by_one_over_the_rate()
    {
        var time = new ManualTimeProvider();
        var pacer = new UploadPacer(maxUploadsPerSecond: 10, time);

        await pacer.WaitTurnAsync(CancellationToken.None);
        await pacer.WaitTurnAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(250));
        await pacer.WaitTurnAsync(CancellationToken.None);

        Assert.That(time.Delays, Is.EqualTo(new[] { TimeSpan.FromMilliseconds(100) }), "only the second upload, 0 ms after the first, waited");
    }

    [Test]
    public async Task Without_a_cap_the_pacer_never_waits()
    {
        var time = new ManualTimeProvider();
        var pacer = new UploadPacer(maxUploadsPerSecond: null, time);
        for (var i = 0; i < 5; i++)
        {
            await pacer.WaitTurnAsync(CancellationToken.None);
        }

        Assert.That(time.Delays, Is.Empty);
    }

    [Test]
    public async Task A_capped_database_still_makes_every_durable_write_durable()
    {
        var options = new DbOptions { FlushInterval = TimeSpan.FromHours(1), MaxWalUploadsPerSecond = 50, RandomSeed = 4, Compaction = new() { Enabled = false } };
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", options);
        var before = db.GetStats();

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => db.PutAsync(B($"k{i}"), B("v")).AsTask())).WaitAsync(HangGuard);

        var after = db.GetStats();
        Assert.That(after.DurableSequence, Is.EqualTo(after.LastSequence));
        Assert.That(after.WalObjectsWritten - before.WalObjectsWritten, Is.InRange(1, 40));
    }

    [Test]
    public void A_write_that_races_the_fence_is_told_fenced_not_failed()
    {
        using var wal = new WalWriter(
            new InMemoryObjectStore(), 1, 1, TimeSpan.FromHours(1), null, 1 << 20, TimeProvider.System, TimeSpan.FromSeconds(1),
            () => true, _ => { }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, _ => { });
        wal.Fail(Errors.Fenced("fenced: a newer writer claimed the database (test)"));

        var e = Assert.Throws<SlateSharpException>(() => wal.Append([SlateSharp.Format.RowEntry.Put(B("k"), B("v"), 1)], 1, durableWaiter: true, out _));
        Assert.That(e!.IsFenced, Is.True, e.Message);

        using var failed = new WalWriter(
            new InMemoryObjectStore(), 1, 1, TimeSpan.FromHours(1), null, 1 << 20, TimeProvider.System, TimeSpan.FromSeconds(1),
            () => false, _ => { }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, _ => { });
        failed.Fail(new IOException("disk gone"));
        var other = Assert.Throws<SlateSharpException>(() => failed.Append([SlateSharp.Format.RowEntry.Put(B("k"), B("v"), 1)], 1, durableWaiter: false, out _));
        Assert.That(other!.CloseReason, Is.EqualTo(CloseReason.Failed));
    }

    [Test]
    public void The_cap_is_validated()
    {
        var e = Assert.ThrowsAsync<SlateSharpException>(async () =>
            await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions { MaxWalUploadsPerSecond = 0 }));
        Assert.That(e!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(e.Message, Does.Contain("MaxWalUploadsPerSecond"));
    }

    [Test]
    public async Task A_small_wal_object_after_a_large_one_holds_only_its_own_batch()
    {
        // The writer reuses a stored object's buffer for the next one: nothing of the larger object may leak into it.
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", NoInterval);
        var large = new WriteBatch();
        for (var i = 0; i < 300; i++)
        {
            large.Put(Encoding.UTF8.GetBytes($"large-{i:D3}"), new byte[1000]);
        }

        await db.WriteAsync(large).AsTask().WaitAsync(HangGuard);
        await db.PutAsync(B("small"), B("v")).AsTask().WaitAsync(HangGuard);
        await db.PutAsync(B("smaller"), B("")).AsTask().WaitAsync(HangGuard);

        var objects = await store.ListAsync("db/" + WalPaths.Prefix).OrderBy(o => o.Path.Value, StringComparer.Ordinal).ToListAsync();
        Assert.That(objects, Has.Count.GreaterThanOrEqualTo(3));
        var decoded = new List<SlateSharp.Format.WalObject>();
        foreach (var meta in objects.TakeLast(3))
        {
            var got = await store.GetAsync(meta.Path, SlateSharp.Storage.ByteRange.All);
            decoded.Add(SlateSharp.Format.WalObjectCodec.Decode(got!.Data, meta.Path.Value, zeroByteIsFence: false));
        }

        Assert.That(objects[^3].Size, Is.GreaterThan(300_000));
        Assert.That(decoded[0].Batches.Single().Rows, Has.Count.EqualTo(300));
        Assert.That(decoded[1].Batches.Single().Rows.Select(r => Encoding.UTF8.GetString(r.Key.Span)), Is.EqualTo(new[] { "small" }));
        Assert.That(decoded[2].Batches.Single().Rows.Select(r => Encoding.UTF8.GetString(r.Key.Span)), Is.EqualTo(new[] { "smaller" }));
        Assert.That(objects[^1].Size, Is.LessThan(200), "the small object is as long as its own bytes");
    }
}
