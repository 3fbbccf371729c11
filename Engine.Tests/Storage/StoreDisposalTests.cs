using System.Text;
using SlateSharp.Storage;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage;

/// <summary>A store opened from a URL is released with <c>await using</c>, without casts; a store passed to a database stays the caller's.</summary>
public sealed class StoreDisposalTests
{
    private static readonly ObjectPath Path = ObjectPath.Parse("a/object");

    [Test]
    public async Task A_store_opened_from_a_url_is_released_by_await_using()
    {
        using var directory = new TestDirectory();
        IObjectStore escaped;
        await using (var store = await ObjectStores.OpenAsync("file://" + directory.Path))
        {
            await store.PutAsync(Path, Encoding.UTF8.GetBytes("x"), PutMode.CreateIfAbsent);
            Assert.That(await store.GetAsync(Path, ByteRange.All), Is.Not.Null);
            escaped = store;
        }

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await escaped.GetAsync(Path, ByteRange.All));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Closed), "the store released its handles");
    }

    [Test]
    public async Task A_store_passed_to_a_database_is_not_disposed_with_it()
    {
        using var directory = new TestDirectory();
        await using var store = await ObjectStores.OpenAsync("file://" + directory.Path);
        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", new DbOptions { RandomSeed = 14 }))
        {
            await db.PutAsync(Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes("v"));
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(store, "db", new DbOptions { RandomSeed = 15 });
        Assert.That(await reopened.GetAsync(Encoding.UTF8.GetBytes("k")), Is.EqualTo(Encoding.UTF8.GetBytes("v")), "the caller's store still works after the first database closed");
    }

    [Test]
    public async Task A_store_that_only_implements_IDisposable_is_disposed_through_the_interface()
    {
        var store = new DisposableOnlyStore();
        await ((IAsyncDisposable)store).DisposeAsync();
        Assert.That(store.Disposed, Is.True);
    }

    private sealed class DisposableOnlyStore : IObjectStore, IDisposable
    {
        public bool Disposed { get; private set; }

        public string Location => "test://disposable";

        public void Dispose() => Disposed = true;

        public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
