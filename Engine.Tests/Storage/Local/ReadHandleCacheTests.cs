using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Common;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// The local store's cached read handles (<see cref="ReadHandleCache"/>): a handle never serves the bytes of a file
/// that is no longer at the path, however the path was changed and by whom.
/// </summary>
public sealed class ReadHandleCacheTests
{
    private static readonly ObjectPath A = ObjectPath.Parse("compacted/a.sst");

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

    private static async Task<string?> ReadAsync(IObjectStore store, ObjectPath path, ByteRange? range = null) =>
        await store.GetAsync(path, range ?? ByteRange.All) is { } result ? Encoding.ASCII.GetString(result.Data.Span) : null;

    [Test]
    public async Task Reads_of_an_object_keep_one_handle_open()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(A, Bytes("0123456789"), PutMode.Overwrite);

        Assert.That(store.CachedReadHandles, Is.EqualTo(0), "the test directory is on a kernel-local filesystem");
        Assert.That(await ReadAsync(store, A, ByteRange.FromOffset(2, 3)), Is.EqualTo("234"));
        Assert.That(await ReadAsync(store, A, ByteRange.Suffix(4)), Is.EqualTo("6789"));
        var result = await store.GetAsync(A, ByteRange.From(8));

        Assert.That(store.CachedReadHandles, Is.EqualTo(1));
        Assert.That(result!.Offset, Is.EqualTo(8));
        Assert.That(result.Metadata.Size, Is.EqualTo(10));
        Assert.That(result.Metadata.Version, Is.EqualTo((await store.HeadAsync(A))!.Version));
    }

    [Test]
    public async Task An_object_deleted_and_stored_again_through_the_store_reads_the_new_bytes()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(A, Bytes("old-bytes"), PutMode.Overwrite);
        Assert.That(await ReadAsync(store, A), Is.EqualTo("old-bytes"));

        await store.DeleteAsync(A);
        Assert.That(await ReadAsync(store, A), Is.Null);
        await store.PutAsync(A, Bytes("new-bytes"), PutMode.CreateIfAbsent);

        Assert.That(await ReadAsync(store, A), Is.EqualTo("new-bytes"));
        await store.PutAsync(A, Bytes("newer-bytes"), PutMode.Overwrite);
        Assert.That(await ReadAsync(store, A), Is.EqualTo("newer-bytes"));
    }

    [Test]
    public async Task An_object_replaced_by_another_store_instance_reads_the_new_bytes()
    {
        using var directory = new TestDirectory();
        using var reader = LocalFileSystemObjectStore.Open(directory.Path);
        using var writer = LocalFileSystemObjectStore.Open(directory.Path);
        await writer.PutAsync(A, Bytes("first"), PutMode.Overwrite);
        Assert.That(await ReadAsync(reader, A), Is.EqualTo("first"));

        await writer.DeleteAsync(A);
        Assert.That(await ReadAsync(reader, A), Is.Null, "deleted elsewhere: gone, not served from the open handle");
        Assert.That(reader.CachedReadHandles, Is.EqualTo(0));
        await writer.PutAsync(A, Bytes("again"), PutMode.CreateIfAbsent);

        Assert.That(await ReadAsync(reader, A), Is.EqualTo("again"));
    }

    [Test]
    public async Task A_file_recreated_behind_the_store_with_the_same_size_and_time_reads_the_new_bytes()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(A, Bytes("aaaa"), PutMode.Overwrite);
        Assert.That(await ReadAsync(store, A), Is.EqualTo("aaaa"));
        var file = Path.Combine(directory.Path, A.Value);
        var modified = File.GetLastWriteTimeUtc(file);

        // Same size, same modification time: only the inode tells the files apart (the open handle keeps the old one).
        File.Delete(file);
        await File.WriteAllBytesAsync(file, Bytes("bbbb"));
        File.SetLastWriteTimeUtc(file, modified);

        Assert.That(await ReadAsync(store, A), Is.EqualTo("bbbb"));
    }

    [Test]
    public async Task A_file_rewritten_in_place_behind_the_store_reads_the_new_bytes()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(A, Bytes("short"), PutMode.Overwrite);
        Assert.That(await ReadAsync(store, A), Is.EqualTo("short"));

        await File.WriteAllBytesAsync(Path.Combine(directory.Path, A.Value), Bytes("a longer text")); // same inode

        Assert.That(await ReadAsync(store, A), Is.EqualTo("a longer text"));
    }

    [Test]
    public async Task A_read_after_dispose_fails_as_closed()
    {
        using var directory = new TestDirectory();
        var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(A, Bytes("x"), PutMode.Overwrite);
        Assert.That(await ReadAsync(store, A), Is.EqualTo("x"));

        store.Dispose();

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.GetAsync(A, ByteRange.All));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Closed));
        Assert.That(error.Message, Does.Contain(A.Value));
        Assert.That(store.CachedReadHandles, Is.EqualTo(0));
    }

    [Test]
    public async Task The_cache_is_bounded_and_concurrent_reads_through_evicted_handles_stay_correct()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ReadHandleCacheSize = 2 });
        var paths = Enumerable.Range(0, 6).Select(i => ObjectPath.Parse($"compacted/{i}.sst")).ToArray();
        foreach (var path in paths)
        {
            await store.PutAsync(path, Bytes(new string((char)('a' + path.Value[10] - '0'), 4096)), PutMode.Overwrite);
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 2000; i++)
            {
                var path = paths[(i * 7 + worker) % paths.Length];
                var text = await ReadAsync(store, path, ByteRange.FromOffset(i % 4000, 64));
                Assert.That(text, Is.EqualTo(new string((char)('a' + path.Value[10] - '0'), 64)));
            }
        })));

        Assert.That(store.CachedReadHandles, Is.LessThanOrEqualTo(2));
    }

    [Test]
    public async Task A_store_without_the_cache_reads_the_same()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ReadHandleCacheSize = 0 });
        await store.PutAsync(A, Bytes("0123456789"), PutMode.Overwrite);

        Assert.That(store.CachedReadHandles, Is.Null);
        Assert.That(await ReadAsync(store, A, ByteRange.FromOffset(2, 3)), Is.EqualTo("234"));
        Assert.That(await ReadAsync(store, ObjectPath.Parse("compacted/none.sst")), Is.Null);
    }

    [Test]
    public async Task A_read_of_a_known_version_comes_from_its_open_handle_even_after_the_path_changed_and_an_ordinary_read_does_not()
    {
        using var directory = new TestDirectory();
        using var reader = LocalFileSystemObjectStore.Open(directory.Path);
        using var writer = LocalFileSystemObjectStore.Open(directory.Path);
        await writer.PutAsync(A, Bytes("first"), PutMode.Overwrite);
        var first = (await reader.GetAsync(A, ByteRange.All))!.Metadata.Version;

        await writer.DeleteAsync(A);
        Assert.That(await ReadKnownAsync(reader, A, first), Is.EqualTo("first"), "the handle of that version, not the path, answers");
        Assert.That(await ReadAsync(reader, A), Is.Null, "an ordinary read looks at the path");

        await writer.PutAsync(A, Bytes("again"), PutMode.CreateIfAbsent);
        var again = (await reader.GetAsync(A, ByteRange.All))!.Metadata.Version;
        Assert.That(again, Is.Not.EqualTo(first));
        Assert.That(await ReadKnownAsync(reader, A, again), Is.EqualTo("again"));
        Assert.That(await ReadKnownAsync(reader, A, first), Is.EqualTo("again"), "no handle of the old version is kept: an ordinary read of the path");
    }

    [Test]
    public async Task A_read_of_a_known_version_reaches_the_local_store_through_the_decorators_a_database_stacks()
    {
        using var directory = new TestDirectory();
        using var local = LocalFileSystemObjectStore.Open(directory.Path);
        var metrics = new ObjectStoreMetrics();
        var retrier = new Retrier(new RetryOptions(), TimeProvider.System, new RandomSource(11), NullLogger.Instance);
        var store = new PrefixedObjectStore(new RetryingObjectStore(new InstrumentedObjectStore(local, metrics, TimeProvider.System), retrier, new RandomSource(12)), "db");
        await store.PutAsync(A, Bytes("0123456789"), PutMode.CreateIfAbsent);
        var version = (await store.GetAsync(A, ByteRange.Suffix(4)))!.Metadata.Version;

        using (var elsewhere = LocalFileSystemObjectStore.Open(directory.Path))
        {
            await elsewhere.DeleteAsync(ObjectPath.Parse("db/" + A.Value)); // another instance: this one's handle stays
        }

        var buffer = new byte[5];
        var read = await ReadsInto.GetIntoAsync(store, A, version, 3, buffer);

        Assert.That(read!.Metadata.Path, Is.EqualTo(A));
        Assert.That(Encoding.ASCII.GetString(read.Data.Span), Is.EqualTo("34567"));
        Assert.That(metrics.Requests(RequestKind.Get), Is.EqualTo(2), "counted as a GET like any other read");
        Assert.That(await ReadsInto.GetIntoAsync(store, A, 3, buffer), Is.Null, "without the version: the path, which is empty");
    }

    private static async Task<string?> ReadKnownAsync(IObjectStore store, ObjectPath path, ObjectVersion version)
    {
        var buffer = new byte[64];
        return await ReadsInto.GetIntoAsync(store, path, version, 0, buffer) is { } result ? Encoding.ASCII.GetString(result.Data.Span) : null;
    }
}
