using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.Gc;

namespace SlateSharp.Tests.Db;

/// <summary>
/// <see cref="WriteOptions.Ttl"/> and <see cref="WriteOptions.ExpireAt"/>: an expired put is invisible at once to
/// gets, scans and readers (older values of its key with it), survives replay with its expiry, and becomes a
/// tombstone in compaction. Time moves by a shifted clock, never by sleeping.
/// </summary>
public sealed class TtlTests
{
    private static readonly WriteOptions Hour = new() { Ttl = TimeSpan.FromHours(1) };

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static DbOptions Options(TimeProvider time, int seed, bool compaction = false) => new()
    {
        TimeProvider = time,
        RandomSeed = seed,
        FlushInterval = TimeSpan.FromMilliseconds(5),
        Compaction = compaction ? new CompactionOptions { MinSourcesPerJob = 2, PollInterval = TimeSpan.FromMilliseconds(20) } : new CompactionOptions { Enabled = false },
    };

    private static async Task<List<string>> KeysAsync(IAsyncEnumerable<KeyValue> rows)
    {
        var keys = new List<string>();
        await foreach (var row in rows)
        {
            keys.Add(row.KeyString());
        }

        return keys;
    }

    [Test]
    public async Task Expired_puts_vanish_from_gets_and_scans_with_the_older_values_of_their_keys()
    {
        var time = new ShiftedTimeProvider();
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "ttl", Options(time, 30));
        await db.PutAsync("old", "forever");
        await db.PutAsync("old", "for an hour", Hour);
        await db.PutAsync("short", "for an hour", Hour);
        await db.PutAsync("at", "until a fixed time", new WriteOptions { ExpireAt = time.GetUtcNow() + TimeSpan.FromMinutes(90) });
        await db.WriteAsync(new WriteBatch().Put("batch", "for an hour").Delete("nothing"), Hour);
        await db.PutAsync("stays", "no ttl");

        Assert.That(await KeysAsync(db.ScanAsync(KeyRange.All)), Is.EqualTo(new[] { "at", "batch", "old", "short", "stays" }));
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        time.Advance(TimeSpan.FromMinutes(61));
        Assert.Multiple(async () =>
        {
            Assert.That(await db.GetStringAsync("short"), Is.Null);
            Assert.That(await db.GetStringAsync("old"), Is.Null, "the older value without a TTL does not come back");
            Assert.That(await db.GetStringAsync("batch"), Is.Null, "a batch's puts take the write's TTL");
            Assert.That(await db.GetStringAsync("at"), Is.EqualTo("until a fixed time"));
            Assert.That(await db.GetStringAsync("stays"), Is.EqualTo("no ttl"));
            Assert.That(await KeysAsync(db.ScanAsync(KeyRange.All)), Is.EqualTo(new[] { "at", "stays" }));
        });

        time.Advance(TimeSpan.FromMinutes(30));
        Assert.That(await db.GetStringAsync("at"), Is.Null);
    }

    [Test]
    public async Task Replay_keeps_the_expiry_and_compaction_turns_expired_puts_into_tombstones()
    {
        var store = new InMemoryObjectStore();
        var late = new ShiftedTimeProvider();
        late.Advance(TimeSpan.FromHours(2));

        // Written with the real clock; replayed under a clock two hours ahead: expired.
        var db = await SlateSharp.Db.OpenAsync(store, "ttl", Options(TimeProvider.System, 31));
        await db.PutAsync("k", "for an hour", Hour);
        await db.PutAsync("other", "v");
        await db.SimulateCrashAsync();
        await using (var replayed = await SlateSharp.Db.OpenAsync(store, "ttl", Options(late, 32)))
        {
            Assert.That(await replayed.GetStringAsync("k"), Is.Null, "the expiry survived the WAL");
            await replayed.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        // Under the real clock the row is still live: nothing has rewritten it yet.
        await using (var early = await SlateSharp.Db.OpenAsync(store, "ttl", Options(TimeProvider.System, 33)))
        {
            Assert.That(await early.GetStringAsync("k"), Is.EqualTo("for an hour"));
            await early.PutAsync("filler", "v");
            await early.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        // A compactor running two hours ahead rewrites the expired put as a tombstone...
        await using (var compactor = await DbCompactor.OpenAsync(store, "ttl", new DbOptions { RandomSeed = 34, TimeProvider = late, Compaction = new() { MinSourcesPerJob = 2 } }))
        {
            Assert.That(await compactor.RunOnceAsync(), Is.True);
        }

        // ...so even a reader on the real clock no longer sees it.
        await using var after = await SlateSharp.Db.OpenAsync(store, "ttl", Options(TimeProvider.System, 35));
        Assert.That(await after.GetStringAsync("k"), Is.Null, "compaction made the expired put a tombstone");
        Assert.That(await after.GetStringAsync("other"), Is.EqualTo("v"));
    }

    [Test]
    public async Task A_reader_hides_expired_puts_by_its_own_clock()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "ttl", Options(TimeProvider.System, 36));
        await db.PutAsync("k", "for an hour", Hour);
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var late = new ShiftedTimeProvider();
        late.Advance(TimeSpan.FromHours(2));
        await using var reader = await DbReader.OpenAsync(store, "ttl", new DbReaderOptions { TimeProvider = late });
        Assert.That(await reader.GetStringAsync("k"), Is.Null);
        Assert.That(await db.GetStringAsync("k"), Is.EqualTo("for an hour"));
    }

    [TestCase(0, false)]
    [TestCase(-5, false)]
    [TestCase(60, true)]
    public async Task Bad_ttl_options_are_Invalid(int seconds, bool alsoExpireAt)
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "ttl", Options(TimeProvider.System, 37));
        var options = new WriteOptions { Ttl = TimeSpan.FromSeconds(seconds), ExpireAt = alsoExpireAt ? DateTimeOffset.UtcNow : null };
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await db.PutAsync("k", "v", options));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        error = Assert.ThrowsAsync<SlateSharpException>(async () => await db.WriteAsync(new WriteBatch().Put("k", "v"), options));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(await db.GetStringAsync("k"), Is.Null, "nothing was applied");
    }
}
