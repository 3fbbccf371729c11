using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

public sealed class LocalFileSystemObjectStoreTests
{
    private static ObjectPath P(string path) => ObjectPath.Parse(path);

    [Test]
    public async Task Stale_temporary_files_are_removed_at_open_and_fresh_ones_kept()
    {
        using var directory = new TestDirectory();
        Directory.CreateDirectory(Path.Combine(directory.Path, "wal"));
        var stale = Path.Combine(directory.Path, "wal", LocalFileSystemObjectStore.TempPrefix + "stale");
        var fresh = Path.Combine(directory.Path, "wal", LocalFileSystemObjectStore.TempPrefix + "fresh");
        await File.WriteAllTextAsync(stale, "left by a crash");
        await File.WriteAllTextAsync(fresh, "being written right now");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - TimeSpan.FromHours(2));

        using var store = LocalFileSystemObjectStore.Open(directory.Path);

        Assert.That(File.Exists(stale), Is.False);
        Assert.That(File.Exists(fresh), Is.True);
        Assert.That(await store.ListAsync(string.Empty).ToListAsync(), Is.Empty, "temporary files are never listed");
    }

    [Test]
    public void Temporary_and_reserved_names_cannot_be_addressed()
    {
        var error = Assert.Throws<SlateSharpException>(() => ObjectPath.Parse("wal/" + LocalFileSystemObjectStore.TempPrefix + "x"));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
    }

    [Test]
    public async Task A_read_only_store_reads_but_refuses_to_write_and_does_not_probe()
    {
        using var directory = new TestDirectory();
        using (var writer = LocalFileSystemObjectStore.Open(directory.Path))
        {
            await writer.PutAsync(P("a"), Encoding.ASCII.GetBytes("x"), PutMode.Overwrite);
        }

        using var reader = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ReadOnly = true });

        Assert.That(reader.CommitStrategy, Is.Null);
        Assert.That((await reader.GetAsync(P("a"), ByteRange.All))!.Data.ToArray(), Is.EqualTo(Encoding.ASCII.GetBytes("x")));
        var put = Assert.ThrowsAsync<SlateSharpException>(async () => await reader.PutAsync(P("b"), Encoding.ASCII.GetBytes("y"), PutMode.Overwrite));
        var delete = Assert.ThrowsAsync<SlateSharpException>(async () => await reader.DeleteAsync(P("a")));
        Assert.That(put!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(delete!.Message, Does.Contain("read-only"));
        var entries = Directory.EnumerateFileSystemEntries(directory.Path).Select(Path.GetFileName).ToList();
        Assert.That(entries.Where(e => !e!.StartsWith(DirectoryLocks.FilePrefix, StringComparison.Ordinal)), Is.EquivalentTo(new[] { "a", StrategyMarkers.NoReplaceName }), "no probe directory, no new object, only the writer's marker");
    }

    [TestCase("relative/path")]
    [TestCase("")]
    public void A_root_that_is_not_absolute_is_invalid(string root)
    {
        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(root));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
    }

    [Test]
    public void A_root_that_is_a_file_is_invalid()
    {
        using var directory = new TestDirectory();
        var file = Path.Combine(directory.Path, "file");
        File.WriteAllText(file, "not a directory");

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(file));

        Assert.That(error!.Message, Does.Contain("is a file"));
    }

    [Test]
    public async Task An_object_path_through_an_existing_object_is_a_clear_error()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(P("a"), Encoding.ASCII.GetBytes("x"), PutMode.Overwrite);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(P("a/b"), Encoding.ASCII.GetBytes("y"), PutMode.Overwrite));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("a/b"));
    }

    [Test]
    public async Task Directories_are_not_objects()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(P("dir/object"), Encoding.ASCII.GetBytes("x"), PutMode.Overwrite);

        Assert.That(await store.GetAsync(P("dir"), ByteRange.All), Is.Null);
        Assert.That(await store.HeadAsync(P("dir")), Is.Null);
    }

    [Test]
    public async Task Overwrites_of_equal_size_in_quick_succession_get_distinct_versions()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        var versions = new HashSet<ObjectVersion>();

        for (var i = 0; i < 200; i++)
        {
            var put = await store.PutAsync(P("boundary"), Encoding.ASCII.GetBytes($"{i % 10}"), PutMode.Overwrite);
            Assert.That(versions.Add(put.Version!.Value), Is.True, $"version repeated at write {i}: an if-version-matches could replace the wrong content");
        }
    }
}
