using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Reader;

/// <summary>A reader following a live writer on one store: what it sees, when, and what it never sees.</summary>
public sealed class DbReaderTests
{
    private static readonly DbOptions Writer = new() { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 7 };

    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    private static DbReaderOptions Follow(TimeProvider? time = null, bool lease = false) =>
        new() { TimeProvider = time ?? new StepClock(), UseLease = lease, RandomSeed = 11 };

    private static async Task<List<string>> AllAsync(DbReader reader) =>
        await reader.ScanAsync(KeyRange.All).Select(kv => $"{Encoding.UTF8.GetString(kv.Key.Span)}={Encoding.UTF8.GetString(kv.Value.Span)}").ToListAsync();

    [Test]
    public async Task The_reader_sees_durable_writes_after_a_poll_and_never_writes_that_are_not_durable()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", new DbOptions { FlushInterval = TimeSpan.FromHours(1), RandomSeed = 7 });
        await db.PutAsync(B("a"), B("1"), WriteOptions.NoWait);
        await db.FlushAsync();
        await using var reader = await DbReader.OpenAsync(store, "db", Follow());
        Assert.That(S(await reader.GetAsync(B("a"))), Is.EqualTo("1"), "a durable write made before the open");

        await db.PutAsync(B("b"), B("2"), WriteOptions.NoWait);
        await reader.RefreshAsync(CancellationToken.None);
        Assert.That(S(await db.GetAsync(B("b"))), Is.EqualTo("2"), "the writer sees its own write");
        Assert.That(await reader.GetAsync(B("b")), Is.Null, "not durable yet (the WAL object is not stored): a reader must not see it");

        await db.FlushAsync();
        Assert.That(await reader.GetAsync(B("b")), Is.Null, "stored, but the reader has not polled");
        await reader.RefreshAsync(CancellationToken.None);
        Assert.That(S(await reader.GetAsync(B("b"))), Is.EqualTo("2"));
        Assert.That(await AllAsync(reader), Is.EqualTo(new[] { "a=1", "b=2" }));
    }

    [Test]
    public async Task The_poll_loop_runs_on_the_injected_clock()
    {
        var store = new InMemoryObjectStore();
        var clock = new StepClock();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Writer);
        await db.PutAsync(B("a"), B("1"));
        await using var reader = await DbReader.OpenAsync(store, "db", new DbReaderOptions { TimeProvider = clock, UseLease = false, PollInterval = TimeSpan.FromSeconds(1) });

        await db.PutAsync(B("b"), B("2"));
        await clock.WhenArmedAsync(TimeSpan.FromSeconds(1));
        Assert.That(await reader.GetAsync(B("b")), Is.Null, "no poll until the interval has passed");
        clock.Advance(TimeSpan.FromSeconds(1));
        await reader.WhenPolledAsync(1);
        Assert.That(S(await reader.GetAsync(B("b"))), Is.EqualTo("2"));
    }

    [Test]
    public async Task The_reader_follows_a_flush_from_the_wal_into_l0_and_drops_the_flushed_rows_from_memory()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Writer);
        foreach (var k in new[] { "a", "b", "c" })
        {
            await db.PutAsync(B(k), B("v" + k));
        }

        await using var reader = await DbReader.OpenAsync(store, "db", Follow());
        Assert.That(reader.MemtableRows, Is.EqualTo(3));
        Assert.That(reader.View.Manifest.L0, Is.Empty);

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.PutAsync(B("d"), B("vd"));
        await db.DeleteAsync(B("a"));
        var before = reader.ManifestId;
        await reader.RefreshAsync(CancellationToken.None);

        Assert.That(reader.ManifestId, Is.GreaterThan(before));
        Assert.That(reader.View.Manifest.L0, Has.Count.EqualTo(1));
        Assert.That(reader.MemtableRows, Is.EqualTo(2), "only the rows after the flush (d, and a's tombstone) stay in memory");
        Assert.That(await AllAsync(reader), Is.EqualTo(new[] { "b=vb", "c=vc", "d=vd" }));
    }

    [Test]
    public async Task A_wal_object_after_a_missing_one_is_not_shown_until_the_gap_is_filled()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Writer);
        await db.PutAsync(B("a"), B("1"));
        await using var reader = await DbReader.OpenAsync(store, "db", Follow());
        await db.PutAsync(B("b"), B("2"));

        // Move the newest WAL object one id up: the reader then meets an absent id before it.
        var newest = await NewestWalAsync(store);
        var bytes = (await store.GetAsync(WalPath(newest), ByteRange.All))!.Data;
        await store.DeleteAsync(WalPath(newest));
        await store.PutAsync(WalPath(newest + 1), bytes, PutMode.CreateIfAbsent);
        await reader.RefreshAsync(CancellationToken.None);
        Assert.That(await reader.GetAsync(B("b")), Is.Null, "the object after a gap holds writes made after whatever the gap holds");

        await store.PutAsync(WalPath(newest), bytes, PutMode.CreateIfAbsent);
        await reader.RefreshAsync(CancellationToken.None);
        Assert.That(S(await reader.GetAsync(B("b"))), Is.EqualTo("2"));
    }

    [Test]
    public async Task Wal_objects_collected_after_a_flush_are_passed_over_by_re_reading_the_manifest()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Writer);
        await db.PutAsync(B("a"), B("1"));

        // The reader's store hides the next manifest from its first refresh, as a poll that read the manifest just
        // before the writer's flush would: its WAL reads then meet the ids GC removed.
        var hiding = new InterceptingObjectStore(new SlateSharp.Storage.Decorators.PrefixedObjectStore(store, "db"));
        await using var reader = await DbReader.OpenAsync(hiding, "", Follow());
        var opened = reader.ManifestId;
        await db.PutAsync(B("b"), B("2"));
        await db.PutAsync(B("c"), B("3"));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var replayAfter = db.Manifest.Manifest.ReplayAfterWalId;
        var prefixed = new SlateSharp.Storage.Decorators.PrefixedObjectStore(store, "db");
        await foreach (var item in prefixed.ListAsync(WalPaths.Prefix))
        {
            if (WalPaths.TryParseId(item.Path, out var id) && id <= replayAfter)
            {
                await prefixed.DeleteAsync(item.Path); // what GC does once the rows are in L0
            }
        }

        await db.PutAsync(B("d"), B("4"));
        var hidden = 0;
        hiding.OnGet = async (path, proceed, _) =>
        {
            if (path.Value.StartsWith("manifest/", StringComparison.Ordinal) && hidden++ == 0)
            {
                return null;
            }

            return await proceed();
        };

        await reader.RefreshAsync(CancellationToken.None);
        Assert.That(hidden, Is.GreaterThan(1), "the manifest was read again after the WAL read found a collected id");
        Assert.That(reader.ManifestId, Is.GreaterThan(opened));
        Assert.That(await AllAsync(reader), Is.EqualTo(new[] { "a=1", "b=2", "c=3", "d=4" }));
    }

    [Test]
    public async Task A_corrupt_wal_object_is_a_data_error_naming_it_and_the_view_stays_committed()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Writer);
        await db.PutAsync(B("a"), B("1"));
        await using var reader = await DbReader.OpenAsync(store, "db", Follow());
        await db.PutAsync(B("b"), B("2"));
        var newest = await NewestWalAsync(store);
        var bytes = (await store.GetAsync(WalPath(newest), ByteRange.All))!.Data.ToArray();
        bytes[^3] ^= 0x5A;
        await store.PutAsync(WalPath(newest), bytes, PutMode.Overwrite);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await reader.RefreshAsync(CancellationToken.None));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain(WalPaths.PathOf(newest).Value));
        var read = Assert.ThrowsAsync<SlateSharpException>(async () => await reader.GetAsync(B("a")));
        Assert.That(read!.Kind, Is.EqualTo(ErrorKind.Data), "reads say the reader is stuck rather than serve a stale view silently");

        var open = Assert.ThrowsAsync<SlateSharpException>(async () => await DbReader.OpenAsync(store, "db", Follow()));
        Assert.That(open!.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(open.Message, Does.Contain(WalPaths.PathOf(newest).Value));
    }

    [Test]
    public async Task A_scan_keeps_the_view_it_started_with_while_polls_swap_views_under_it()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Writer);
        foreach (var k in new[] { "a", "b", "c" })
        {
            await db.PutAsync(B(k), B("old"));
        }

        await using var reader = await DbReader.OpenAsync(store, "db", Follow());
        await using var scan = reader.ScanAsync(KeyRange.All).GetAsyncEnumerator();
        Assert.That(await scan.MoveNextAsync(), Is.True);

        await db.PutAsync(B("b"), B("new"));
        await db.PutAsync(B("bb"), B("new"));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.PutAsync(B("c"), B("new"));
        await reader.RefreshAsync(CancellationToken.None);

        var rest = new List<string>();
        while (await scan.MoveNextAsync())
        {
            rest.Add($"{Encoding.UTF8.GetString(scan.Current.Key.Span)}={Encoding.UTF8.GetString(scan.Current.Value.Span)}");
        }

        Assert.That(rest, Is.EqualTo(new[] { "b=old", "c=old" }), "one snapshot from start to end");
        Assert.That(await AllAsync(reader), Is.EqualTo(new[] { "a=old", "b=new", "bb=new", "c=new" }));
    }

    [Test]
    public async Task A_reader_writes_no_manifest_and_with_UseLease_false_nothing_at_all()
    {
        var inner = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(inner, "db", Writer);
        await db.PutAsync(B("a"), B("1"));
        var counting = new InterceptingObjectStore(new SlateSharp.Storage.Decorators.PrefixedObjectStore(inner, "db"));
        var puts = new List<string>();
        counting.OnPut = async (path, _, proceed, _) =>
        {
            lock (puts)
            {
                puts.Add(path.Value);
            }

            return await proceed();
        };

        await using (var reader = await DbReader.OpenAsync(counting, "", Follow()))
        {
            await db.PutAsync(B("b"), B("2"));
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            await reader.RefreshAsync(CancellationToken.None);
            Assert.That(S(await reader.GetAsync(B("b"))), Is.EqualTo("2"));
        }

        Assert.That(puts, Is.Empty);
        Assert.That(counting.Deleted, Is.Empty);
    }

    [Test]
    public async Task Reads_after_dispose_fail_as_closed()
    {
        var store = new InMemoryObjectStore();
        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", Writer))
        {
            await db.PutAsync(B("a"), B("1"));
        }

        var reader = await DbReader.OpenAsync(store, "db", Follow());
        await reader.DisposeAsync();
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await reader.GetAsync(B("a")));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Closed));
        await reader.DisposeAsync();
    }

    [Test]
    public void Opening_where_no_database_is_fails_as_invalid()
    {
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await DbReader.OpenAsync(new InMemoryObjectStore(), "nothing", Follow()));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("no database"));
    }

    internal static ObjectPath WalPath(ulong id) => ObjectPath.Parse("db/" + WalPaths.PathOf(id).Value);

    internal static async Task<ulong> NewestWalAsync(IObjectStore store)
    {
        ulong newest = 0;
        await foreach (var item in store.ListAsync("db/" + WalPaths.Prefix))
        {
            if (WalPaths.TryParseId(ObjectPath.Parse(item.Path.Value["db/".Length..]), out var id))
            {
                newest = Math.Max(newest, id);
            }
        }

        return newest;
    }
}
