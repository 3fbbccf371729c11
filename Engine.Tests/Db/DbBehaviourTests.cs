using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Db;

/// <summary>Options, closing, durability-aware reads, compression, and bad stored data.</summary>
public sealed class DbBehaviourTests
{
    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    private static IEnumerable<TestCaseData> InvalidOptions()
    {
        yield return new TestCaseData(new DbOptions { FlushInterval = TimeSpan.Zero }, "FlushInterval");
        yield return new TestCaseData(new DbOptions { MemtableSizeBytes = 10 }, "MemtableSizeBytes");
        yield return new TestCaseData(new DbOptions { MemtableSizeBytes = 1 << 20, MaxUnflushedBytes = 1 << 19 }, "MaxUnflushedBytes");
        yield return new TestCaseData(new DbOptions { L0MaxSsts = 0 }, "L0MaxSsts");
        yield return new TestCaseData(new DbOptions { BlockSizeBytes = 1 }, "BlockSizeBytes");
        yield return new TestCaseData(new DbOptions { BloomBitsPerKey = 99 }, "BloomBitsPerKey");
        yield return new TestCaseData(new DbOptions { Compression = (CompressionCodec)42 }, "Compression");
        yield return new TestCaseData(new DbOptions { WalObjectMaxBytes = 1 }, "WalObjectMaxBytes");
        yield return new TestCaseData(new DbOptions { BlockCacheBytes = -1 }, "BlockCacheBytes");
    }

    [TestCaseSource(nameof(InvalidOptions))]
    public async Task Invalid_options_fail_at_open_and_write_nothing(DbOptions options, string named)
    {
        var store = new InMemoryObjectStore();

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(store, "db", options));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain(named));
        Assert.That(await store.ListAsync(string.Empty).CountAsync(), Is.Zero);
    }

    [Test]
    public async Task Bad_keys_and_values_are_invalid()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5) });

        Assert.That(Assert.ThrowsAsync<SlateSharpException>(async () => await db.PutAsync(ReadOnlyMemory<byte>.Empty, B("v")))!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(Assert.ThrowsAsync<SlateSharpException>(async () => await db.PutAsync(new byte[70_000], B("v")))!.Message, Does.Contain("key length"));
        Assert.That(Assert.ThrowsAsync<SlateSharpException>(async () => await db.GetAsync(ReadOnlyMemory<byte>.Empty))!.Kind, Is.EqualTo(ErrorKind.Invalid));
    }

    [Test]
    public async Task After_close_every_call_fails_as_closed_cleanly_and_close_again_is_fine()
    {
        var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5) });
        await db.CloseAsync();
        AssertEveryCallFailsClosedCleanly(db, "after the first close");

        // A second close and a dispose report the first close's outcome (clean) and change nothing.
        await db.CloseAsync();
        await db.DisposeAsync();

        AssertEveryCallFailsClosedCleanly(db, "after closing again and disposing");
    }

    private static void AssertEveryCallFailsClosedCleanly(SlateSharp.Db db, string when)
    {
        var calls = new (string Name, AsyncTestDelegate Call)[]
        {
            ("put", async () => await db.PutAsync(B("k"), B("v"))),
            ("put without waiting", async () => await db.PutAsync(B("k"), B("v"), WriteOptions.NoWait)),
            ("delete", async () => await db.DeleteAsync(B("k"))),
            ("empty batch", async () => await db.WriteAsync(new WriteBatch())),
            ("get", async () => await db.GetAsync(B("k"))),
            ("scan", async () => await db.ScanAsync(KeyRange.All).CountAsync()),
            ("flush", async () => await db.FlushAsync()),
            ("memtable flush", async () => await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable })),
        };
        foreach (var (name, call) in calls)
        {
            var error = Assert.ThrowsAsync<SlateSharpException>(call, $"{name} {when}");
            Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Closed), $"{name} {when}");
            Assert.That(error.CloseReason, Is.EqualTo(CloseReason.Clean), $"{name} {when}");
        }
    }

    [Test]
    public async Task Durable_only_reads_see_a_write_once_it_is_in_the_wal()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions { FlushInterval = TimeSpan.FromHours(1) });
        await db.PutAsync(B("k"), B("v"), WriteOptions.NoWait);

        var before = await db.GetAsync(B("k"), new ReadOptions { DurableOnly = true });
        var any = await db.GetAsync(B("k"));
        await db.FlushAsync();
        var after = await db.GetAsync(B("k"), new ReadOptions { DurableOnly = true });

        Assert.That(before, Is.Null);
        Assert.That(any, Is.Not.Null);
        Assert.That(after, Is.EqualTo(B("v").ToArray()));
    }

    [TestCase(CompressionCodec.None)]
    [TestCase(CompressionCodec.Lz4)]
    [TestCase(CompressionCodec.Zstd)]
    public async Task Compressed_ssts_read_back(CompressionCodec codec)
    {
        var store = new InMemoryObjectStore();
        var options = new DbOptions { Compression = codec, FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 2 };
        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", options))
        {
            for (var i = 0; i < 2_000; i++)
            {
                await db.PutAsync(B($"key-{i:D5}"), B(new string((char)('a' + (i % 26)), 200)), WriteOptions.NoWait);
            }

            await db.CloseAsync();
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(store, "db", options);
        var size = reopened.Manifest.Manifest.L0.Sum(h => h.Size);

        Assert.That(await reopened.ScanAsync(KeyRange.All).CountAsync(), Is.EqualTo(2_000));
        Assert.That(Encoding.UTF8.GetString((await reopened.GetAsync(B("key-01234")))!), Is.EqualTo(new string((char)('a' + (1234 % 26)), 200)));
        Assert.That(size, codec == CompressionCodec.None ? Is.GreaterThan(400_000) : Is.LessThan(200_000), "compression must pay on repetitive values");
    }

    [Test]
    public async Task A_corrupt_wal_object_stops_the_open_with_a_data_error_naming_it()
    {
        var store = new InMemoryObjectStore();
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5) };
        var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        await db.PutAsync(B("k"), B("v"));
        await db.SimulateCrashAsync();
        var walPath = ObjectPath.Parse("db/" + WalPaths.PathOf(2).Value);
        var stored = (await store.GetAsync(walPath, ByteRange.All))!.Data.ToArray();
        stored[^12] ^= 0xFF;
        await store.PutAsync(walPath, stored, PutMode.Overwrite);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(store, "db", options));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("wal/00000000000000000002.sst"));
    }
}
