using System.Buffers;
using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// <see cref="SlateSharp.Db.GetAsync(ReadOnlyMemory{byte}, IBufferWriter{byte}, ReadOptions?, CancellationToken)"/>
/// and its <see cref="DbReader"/> twin return what the array-returning get returns, wherever the row lives.
/// </summary>
public sealed class BufferWriterGetTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Keys 0..299 in L0 (two SSTs), 100..149 overwritten and 150..199 deleted in the memtable, 200..219 deleted in L0.</summary>
    internal static async Task FillAsync(SlateSharp.Db db)
    {
        for (var i = 0; i < 300; i++)
        {
            await db.PutAsync(B($"k{i:D4}"), B($"v{i}-" + new string('x', i % 50)), WriteOptions.NoWait);
            if (i == 150)
            {
                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            }
        }

        for (var i = 200; i < 220; i++)
        {
            await db.DeleteAsync(B($"k{i:D4}"), WriteOptions.NoWait);
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        for (var i = 100; i < 150; i++)
        {
            await db.PutAsync(B($"k{i:D4}"), B($"new{i}"), WriteOptions.NoWait);
        }

        for (var i = 150; i < 200; i++)
        {
            await db.DeleteAsync(B($"k{i:D4}"), WriteOptions.NoWait);
        }

        await db.FlushAsync();
    }

    private static IEnumerable<byte[]> Probes() =>
        Enumerable.Range(0, 320).Select(i => B($"k{i:D4}")).Concat([B("a"), B("k0000x"), B("zz")]);

    [Test]
    public async Task The_buffer_get_returns_the_bytes_of_the_array_get_and_false_for_missing_or_deleted_keys()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 3 });
        await FillAsync(db);

        var destination = new ArrayBufferWriter<byte>();
        foreach (var key in Probes())
        {
            var expected = await db.GetAsync(key);
            destination.Write("prefix"u8);

            var found = await db.GetAsync(key, destination);

            Assert.That(found, Is.EqualTo(expected is not null), Encoding.UTF8.GetString(key));
            Assert.That(destination.WrittenSpan.ToArray(), Is.EqualTo("prefix"u8.ToArray().Concat(expected ?? []).ToArray()), "appends the value, or nothing");
            destination.ResetWrittenCount();
        }

        Assert.That(await db.GetAsync(B("k0160"), destination), Is.False, "deleted in the memtable over a put in L0");
        Assert.That(await db.GetAsync(B("k0210"), destination), Is.False, "deleted in L0");
        Assert.That(await db.GetAsync(B("k0500"), destination), Is.False, "never written");
        Assert.That(destination.WrittenCount, Is.Zero);
    }

    [Test]
    public async Task The_readers_buffer_get_matches_its_array_get()
    {
        var store = new InMemoryObjectStore();
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 4 });
        await FillAsync(db);
        await using var reader = await DbReader.OpenAsync(store, "db", new DbReaderOptions { RandomSeed = 5 });

        var destination = new ArrayBufferWriter<byte>();
        foreach (var key in Probes())
        {
            var expected = await reader.GetAsync(key);
            Assert.That(expected, Is.EqualTo(await db.GetAsync(key)), "the reader sees the durable writes");
            destination.ResetWrittenCount();

            Assert.That(await reader.GetAsync(key, destination), Is.EqualTo(expected is not null));
            Assert.That(destination.WrittenSpan.ToArray(), Is.EqualTo(expected ?? []));
        }
    }

    [Test]
    public async Task A_buffer_get_of_a_cached_block_completes_synchronously_without_allocating()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 6 });
        await FillAsync(db);
        var key = B("k0042");
        var destination = new ArrayBufferWriter<byte>(256);
        for (var i = 0; i < 3; i++)
        {
            Assert.That(await db.GetAsync(key, destination), Is.True); // opens the SST, caches the block, first-use state
        }

        // Run on one thread without awaiting (a synchronous completion is the point), and no asserts inside the loop.
        var synchronous = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            destination.ResetWrittenCount();
            var get = db.GetAsync(key, destination);
            synchronous += get.IsCompletedSuccessfully && get.Result ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(synchronous, Is.EqualTo(100));
        Assert.That(allocated, Is.Zero, $"{allocated} bytes over 100 gets");
    }
}
