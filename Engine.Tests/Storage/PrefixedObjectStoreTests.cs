using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.Storage;

public sealed class PrefixedObjectStoreTests
{
    [Test]
    public async Task A_prefixed_store_sees_only_its_own_objects_under_relative_paths()
    {
        var inner = new InMemoryObjectStore();
        await inner.PutAsync(ObjectPath.Parse("other/x"), Encoding.ASCII.GetBytes("other"), PutMode.Overwrite);
        await inner.PutAsync(ObjectPath.Parse("db-2/x"), Encoding.ASCII.GetBytes("sibling"), PutMode.Overwrite);
        var store = new PrefixedObjectStore(inner, "db");

        await store.PutAsync(ObjectPath.Parse("wal/1"), Encoding.ASCII.GetBytes("mine"), PutMode.CreateIfAbsent);
        var listed = await store.ListAsync(string.Empty).Select(m => m.Path.Value).ToListAsync();
        var got = await store.GetAsync(ObjectPath.Parse("wal/1"), ByteRange.All);

        Assert.That(listed, Is.EqualTo(new[] { "wal/1" }));
        Assert.That(got!.Metadata.Path.Value, Is.EqualTo("wal/1"));
        Assert.That(await inner.HeadAsync(ObjectPath.Parse("db/wal/1")), Is.Not.Null);
        Assert.That(store.Location, Is.EqualTo("memory://anonymous/db"));
        await store.DeleteAsync(ObjectPath.Parse("wal/1"));
        Assert.That(await inner.HeadAsync(ObjectPath.Parse("db/wal/1")), Is.Null);
    }
}
