using System.Text;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// One regression test for each way issue 9 found to lose acknowledged data under an ambiguous outcome, at the
/// database level on a real store: each scripts the exact answer the store gives (applied but answer lost, "exists"
/// for our own landed write, "exists" without storing, a close cancelled mid-request, a concurrent dispose), then
/// reopens the database from the plain store and checks that every acknowledged write is there.
/// </summary>
[TestFixtureSource(typeof(StoreTargets), nameof(StoreTargets.Heavy))]
public sealed class LossPathTests(StoreTarget target) : StoreTargetFixture(target)
{
    private const string Db = "db";

    private static DbOptions Options => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(5),
        RandomSeed = 9,
    };

    [Test]
    public async Task A_manifest_write_whose_answer_is_lost_is_found_stored_and_the_flush_succeeds()
    {
        var store = new InterceptingObjectStore(Store);
        var db = await SlateSharp.Db.OpenAsync(store, Db, Options);
        var written = await WriteAsync(db, "lost", 50, WriteOptions.NoWait);
        var once = new Once();
        store.OnPut = async (path, _, proceed, _) =>
        {
            var result = await proceed();
            return IsManifest(path) && once.Fire() ? throw InterceptingObjectStore.AnswerLost(path) : result;
        };

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(once.Fired, Is.True, "the fault must have struck");
        Assert.That(db.Manifest.Manifest.L0, Has.Count.EqualTo(1), "the flush is recorded once");
        Assert.That(store.Deleted, Is.Empty, "an sst a stored manifest references must never be deleted");
        await db.CloseAsync();
        await AssertIntactAsync(written);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task A_flush_of_range_deletes_only_whose_manifest_answer_is_lost_or_exists_records_them_once(bool lost)
    {
        var store = new InterceptingObjectStore(Store);
        var db = await SlateSharp.Db.OpenAsync(store, Db, Options);
        var written = await WriteAsync(db, "kept", 20, WriteOptions.NoWait);
        await db.PutAsync(Bytes("gone-1"), Bytes("x"), WriteOptions.NoWait);
        await db.PutAsync(Bytes("gone-2"), Bytes("x"), WriteOptions.NoWait);
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        // The next memtable holds one range delete and no rows: its flush is a manifest update alone.
        await db.DeleteRangeAsync(Bytes("gone-"), Bytes("gone."));
        var once = new Once();
        store.OnPut = async (path, _, proceed, _) =>
        {
            var result = await proceed();
            return IsManifest(path) && once.Fire() ? lost ? throw InterceptingObjectStore.AnswerLost(path) : PutResult.AlreadyExists : result;
        };

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(once.Fired, Is.True, "the fault must have struck");
        Assert.That(db.Manifest.Manifest.RangeTombstones, Has.Count.EqualTo(1), "the range delete is recorded once");
        Assert.That(db.Manifest.Manifest.L0, Has.Count.EqualTo(1), "no sst for a memtable without rows");
        Assert.That(db.Manifest.IsFenced, Is.False, "our own write is not another writer");
        Assert.That(await db.GetAsync(Bytes("gone-1")), Is.Null);
        await db.CloseAsync();
        await AssertIntactAsync(written);
        await using var reopened = await SlateSharp.Db.OpenAsync(Store, Db, Options);
        Assert.That(await reopened.GetAsync(Bytes("gone-2")), Is.Null, "the range delete survives the reopen");
        Assert.That(reopened.ViewManifest.RangeTombstones, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_manifest_write_answered_exists_for_its_own_landed_write_is_not_applied_twice()
    {
        var store = new InterceptingObjectStore(Store);
        var db = await SlateSharp.Db.OpenAsync(store, Db, Options);
        var written = await WriteAsync(db, "own", 50, WriteOptions.NoWait);
        var once = new Once();
        store.OnPut = async (path, _, proceed, _) =>
        {
            var result = await proceed();
            return IsManifest(path) && once.Fire() ? PutResult.AlreadyExists : result;
        };

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(once.Fired, Is.True);
        Assert.That(db.Manifest.Manifest.L0, Has.Count.EqualTo(1), "no duplicate sst id");
        Assert.That(db.Manifest.IsFenced, Is.False, "our own write is not another writer");
        await db.PutAsync(Bytes("after"), Bytes("still writable"));
        written["after"] = "still writable";
        await db.CloseAsync();
        await AssertIntactAsync(written);
    }

    [Test]
    public async Task A_close_cancelled_while_the_manifest_write_is_on_the_wire_leaves_the_sst_it_may_reference()
    {
        var store = new InterceptingObjectStore(Store);
        var db = await SlateSharp.Db.OpenAsync(store, Db, Options);
        var written = await WriteAsync(db, "cancel", 50, WriteOptions.Default);
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.OnPut = async (path, _, proceed, ct) =>
        {
            var result = await proceed();
            if (IsManifest(path))
            {
                applied.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }

            return result;
        };
        using var cancel = new CancellationTokenSource();

        var close = db.CloseAsync(cancel.Token).AsTask();
        await applied.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await cancel.CancelAsync();

        Assert.That(async () => await close, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(store.Deleted.Where(p => Under(p, "compacted/")), Is.Empty);
        var second = Assert.ThrowsAsync<SlateSharpException>(async () => await db.CloseAsync());
        Assert.That(second!.CloseReason, Is.EqualTo(CloseReason.Failed), "a later close reports that the first was cancelled");
        await AssertIntactAsync(written);
    }

    [Test]
    public async Task Manifest_writes_that_land_while_every_answer_and_read_fails_leave_the_sst_and_fail_in_bounded_time()
    {
        var store = new InterceptingObjectStore(Store);
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 9, ManifestUpdateTimeout = TimeSpan.FromSeconds(1) };
        var db = await SlateSharp.Db.OpenAsync(store, Db, options);
        var written = await WriteAsync(db, "exhausted", 50, WriteOptions.Default);
        store.OnPut = async (path, _, proceed, _) =>
        {
            var result = await proceed();
            return IsManifest(path) ? throw InterceptingObjectStore.AnswerLost(path) : result;
        };
        store.OnGet = (path, proceed, _) =>
            IsManifest(path) ? throw new SlateSharpException(ErrorKind.Unavailable, $"injected: 503 (path={path})") : proceed();

        var flush = db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable }).AsTask();

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await flush.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Closed).Or.EqualTo(ErrorKind.Unavailable));
        Assert.That(store.Deleted.Where(p => Under(p, "compacted/")), Is.Empty, "the outcome is unknown: keep the sst");
        await db.DisposeAsync();
        await AssertIntactAsync(written);
    }

    [Test]
    public async Task Concurrent_close_and_dispose_both_wait_for_the_one_flush()
    {
        var store = new InterceptingObjectStore(Store);
        var db = await SlateSharp.Db.OpenAsync(store, Db, Options);
        var written = await WriteAsync(db, "concurrent", 200, WriteOptions.NoWait);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.OnPut = async (path, _, proceed, ct) =>
        {
            if (Under(path, "compacted/"))
            {
                arrived.TrySetResult();
                await release.Task.WaitAsync(ct);
            }

            return await proceed();
        };

        var close = db.CloseAsync().AsTask();
        await arrived.Task.WaitAsync(TimeSpan.FromMinutes(1));
        var dispose = db.DisposeAsync().AsTask();
        var secondClose = db.CloseAsync().AsTask();
        release.SetResult();

        await Task.WhenAll(close, dispose, secondClose).WaitAsync(TimeSpan.FromMinutes(1));
        await AssertIntactAsync(written);
    }

    [Test]
    public async Task A_fence_answered_exists_without_storing_stays_at_its_id_so_the_old_writer_cannot_land_there()
    {
        var old = await SlateSharp.Db.OpenAsync(Store, Db, Options);
        var written = await WriteAsync(old, "old", 20, WriteOptions.Default);
        var store = new InterceptingObjectStore(Store);
        var once = new Once();
        store.OnPut = async (path, _, proceed, _) =>
            Under(path, "wal/") && once.Fire() ? PutResult.AlreadyExists : await proceed();
        var fenceId = old.Wal.NextId;

        await using var newer = await SlateSharp.Db.OpenAsync(store, Db, Options);

        Assert.That(once.Fired, Is.True);
        Assert.That(await Store.HeadAsync(ObjectPath.Parse($"{Db}/wal/{fenceId:D20}.sst")), Is.Not.Null, "the fence is at the first free id");
        var late = Assert.ThrowsAsync<SlateSharpException>(async () => await old.PutAsync(Bytes("late"), Bytes("acknowledged?")));
        Assert.That(late!.IsFenced, Is.True, "the old writer's next WAL object must find the fence");
        await old.DisposeAsync();
        await newer.CloseAsync();
        await AssertIntactAsync(written);
    }

    [Test]
    public async Task Wal_objects_whose_answer_is_lost_or_answered_exists_are_found_stored_and_acknowledged()
    {
        var store = new InterceptingObjectStore(Store);
        var db = await SlateSharp.Db.OpenAsync(store, Db, Options);
        var lost = new Once();
        var exists = new Once();
        store.OnPut = async (path, _, proceed, _) =>
        {
            var result = await proceed();
            if (!Under(path, "wal/"))
            {
                return result;
            }

            return lost.Fire() ? throw InterceptingObjectStore.AnswerLost(path) : exists.Fire() ? PutResult.AlreadyExists : result;
        };

        var written = await WriteAsync(db, "wal", 10, WriteOptions.Default);

        Assert.That(lost.Fired && exists.Fired, Is.True);
        Assert.That(db.Manifest.IsFenced, Is.False);
        await db.SimulateCrashAsync();
        await AssertIntactAsync(written);
    }

    [Test]
    public async Task Transient_failures_of_an_sst_upload_and_of_the_manifest_reads_after_a_failed_write_are_retried()
    {
        var store = new InterceptingObjectStore(Store);
        var db = await SlateSharp.Db.OpenAsync(store, Db, Options);
        var written = await WriteAsync(db, "transient", 50, WriteOptions.NoWait);
        var sstFails = new Once();
        var manifestFails = new Once();
        var readFails = new Once();
        store.OnPut = async (path, _, proceed, _) =>
            (Under(path, "compacted/") && sstFails.Fire()) || (IsManifest(path) && manifestFails.Fire())
                ? throw new SlateSharpException(ErrorKind.Unavailable, $"injected: 503 before the request was applied (path={path})")
                : await proceed();
        store.OnGet = (path, proceed, _) =>
            IsManifest(path) && manifestFails.Fired && readFails.Fire()
                ? throw new SlateSharpException(ErrorKind.Unavailable, $"injected: connection reset (path={path})")
                : proceed();

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(sstFails.Fired && manifestFails.Fired && readFails.Fired, Is.True, "every fault struck");
        Assert.That(db.Manifest.Manifest.L0, Has.Count.EqualTo(1));
        Assert.That(store.Deleted.Count(p => Under(p, "compacted/")), Is.EqualTo(1), "the failed upload's orphan is deleted: no manifest named it");
        Assert.That(store.Deleted.Select(p => p.Name), Does.Not.Contain(SstPaths.PathOf(db.Manifest.Manifest.L0[0].Id).Name));
        await db.CloseAsync();
        await AssertIntactAsync(written);
    }

    private static bool IsManifest(ObjectPath path) => Under(path, "manifest/");

    /// <summary>True for paths under <paramref name="folder"/> of the database (the test store sees the db prefix).</summary>
    private static bool Under(ObjectPath path, string folder) => path.Value.StartsWith($"{Db}/{folder}", StringComparison.Ordinal);

    private static async Task<Dictionary<string, string>> WriteAsync(SlateSharp.Db db, string prefix, int count, WriteOptions options)
    {
        var written = new Dictionary<string, string>();
        for (var i = 0; i < count; i++)
        {
            var (key, value) = ($"{prefix}-{i:D4}", $"value {i} of {prefix}");
            await db.PutAsync(Bytes(key), Bytes(value), options);
            written[key] = value;
        }

        return written;
    }

    /// <summary>Reopens the database from the plain store: every written key reads back and every listed SST exists.</summary>
    private async Task AssertIntactAsync(Dictionary<string, string> written)
    {
        await using var reopened = await SlateSharp.Db.OpenAsync(Store, Db, Options);
        foreach (var (key, value) in written)
        {
            var got = await reopened.GetAsync(Bytes(key));
            Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo(value), $"acknowledged {key} was lost");
        }

        foreach (var sst in reopened.Manifest.Manifest.L0)
        {
            Assert.That(await Store.HeadAsync(ObjectPath.Parse($"{Db}/{SstPaths.PathOf(sst.Id)}")), Is.Not.Null, $"manifest references missing sst {sst.Id}");
        }
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>True the first time only.</summary>
    private sealed class Once
    {
        private int _fired;

        public bool Fired => Volatile.Read(ref _fired) == 1;

        public bool Fire() => Interlocked.Exchange(ref _fired, 1) == 0;
    }
}
