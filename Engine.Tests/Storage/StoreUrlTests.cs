using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage;

public sealed class StoreUrlTests
{
    [TestCase("memory://test", "memory", "test", "")]
    [TestCase("file:///var/data/db", "file", "", "/var/data/db")]
    [TestCase("file:///var/data/db/", "file", "", "/var/data/db")]
    [TestCase("file://localhost/var/data", "file", "", "/var/data")]
    [TestCase("file:///data/with%20space", "file", "", "/data/with space")]
    [TestCase("FILE:///upper", "file", "", "/upper")]
    [TestCase("s3://bucket/prefix/db", "s3", "bucket", "prefix/db")]
    [TestCase("s3://bucket", "s3", "bucket", "")]
    [TestCase("gs://bucket/db/", "gs", "bucket", "db")]
    public void Urls_parse_into_scheme_authority_and_path(string url, string scheme, string authority, string path)
    {
        var parsed = StoreUrl.Parse(url);

        Assert.That((parsed.Scheme, parsed.Authority, parsed.Path), Is.EqualTo((scheme, authority, path)));
    }

    [TestCase("", "empty")]
    [TestCase("/var/data", "no scheme")]
    [TestCase("ftp://host/x", "unsupported store url scheme 'ftp'")]
    [TestCase("file://relative/path", "absolute path")]
    [TestCase("file:///a/../b", "'..'")]
    [TestCase("memory://", "needs a name")]
    [TestCase("memory://a/b", "needs a name")]
    [TestCase("s3:///prefix", "needs a bucket")]
    [TestCase("gs://bucket/a//b", "empty segment")]
    public void Bad_urls_are_invalid_with_a_clear_reason(string url, string reason)
    {
        var error = Assert.Throws<SlateSharpException>(() => StoreUrl.Parse(url));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain(reason));
    }

    [Test]
    public async Task Memory_urls_name_one_shared_store()
    {
        var name = "url-test-" + Guid.NewGuid().ToString("N");
        var first = await ObjectStores.OpenAsync("memory://" + name);
        var second = await ObjectStores.OpenAsync("memory://" + name);

        Assert.That(first, Is.SameAs(second));
        Assert.That(first, Is.InstanceOf<InMemoryObjectStore>());
        InMemoryObjectStore.RemoveNamed(name);
    }

    [Test]
    public async Task File_urls_open_a_local_store_and_read_only_skips_the_probe()
    {
        using var directory = new TestDirectory();

        var store = await ObjectStores.OpenAsync("file://" + directory.Path, new ObjectStoreOptions { ReadOnly = true });

        Assert.That(store, Is.InstanceOf<LocalFileSystemObjectStore>());
        Assert.That(((LocalFileSystemObjectStore)store).CommitStrategy, Is.Null);
        Assert.That(store.Location, Is.EqualTo("file://" + directory.Path));
    }
}
