using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// Every way opening or using a local store can fail on a real filesystem surfaces as a typed error that names the
/// directory or object and says what to do: never a raw .NET exception, never a "could not find" for a path that is
/// there.
/// </summary>
public sealed class LocalStoreErrorTests
{
    private static readonly byte[] Bytes = Encoding.ASCII.GetBytes("content");

    private static ObjectPath P(string path) => ObjectPath.Parse(path);

    [Test]
    public async Task Opening_for_writing_a_directory_the_process_cannot_write_is_invalid_and_read_only_still_works()
    {
        using var parent = new TestDirectory();
        var root = Path.Combine(parent.Path, "db");
        using (var writer = LocalFileSystemObjectStore.Open(root))
        {
            await writer.PutAsync(P("manifest/1"), Bytes, PutMode.CreateIfAbsent);
        }

        using var restricted = RestrictedDirectory.Immutable(root);

        var direct = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(root));
        var byUrl = Assert.ThrowsAsync<SlateSharpException>(async () => await ObjectStores.OpenAsync("file://" + root));
        foreach (var error in new[] { direct!, byUrl! })
        {
            TestContext.Out.WriteLine(error.Message);
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid), error.Message);
            Assert.That(error.Message, Does.Contain($"path={root}"));
            Assert.That(error.Message, Does.Contain("EPERM").Or.Contain("EACCES"));
            Assert.That(error.Message, Does.Contain("write access").And.Contain("read-only"), "says what to do");
        }

        using var reader = LocalFileSystemObjectStore.Open(root, new LocalStoreOptions { ReadOnly = true });
        Assert.That((await reader.GetAsync(P("manifest/1"), ByteRange.All))!.Data.ToArray(), Is.EqualTo(Bytes));
    }

    [Test]
    public void Creating_the_store_directory_inside_an_unwritable_directory_is_invalid_and_names_it()
    {
        using var parent = new TestDirectory();
        using var restricted = RestrictedDirectory.Immutable(parent.Path);
        var root = Path.Combine(parent.Path, "db", "nested");

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(root));

        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid), error.Message);
        Assert.That(error.Message, Does.Contain(Path.Combine(parent.Path, "db")), "names the directory it could not create");
        Assert.That(error.Message, Does.Contain("write access"));
    }

    [Test]
    public async Task A_read_only_filesystem_refuses_a_writer_with_erofs_and_serves_a_reader()
    {
        using var parent = new TestDirectory();
        using var mount = RestrictedDirectory.MountReadOnly(parent.Path, path =>
        {
            using var writer = LocalFileSystemObjectStore.Open(path);
            writer.PutAsync(P("wal/00000000000000000001.sst"), Bytes, PutMode.CreateIfAbsent).AsTask().GetAwaiter().GetResult();
        });

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(parent.Path));
        using var reader = LocalFileSystemObjectStore.Open(parent.Path, new LocalStoreOptions { ReadOnly = true });

        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("EROFS").And.Contain($"path={parent.Path}"));
        Assert.That(error.Message, Does.Contain("remount").And.Contain("read-only"));
        var listed = await reader.ListAsync("wal/").Select(m => m.Path.Value).ToListAsync();
        Assert.That(listed, Is.EqualTo(new[] { "wal/00000000000000000001.sst" }));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void A_root_through_a_regular_file_names_that_file(bool readOnly)
    {
        using var parent = new TestDirectory();
        var file = Path.Combine(parent.Path, "plain-file");
        File.WriteAllText(file, "not a directory");
        var root = Path.Combine(file, "db");

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(root, new LocalStoreOptions { ReadOnly = readOnly }));

        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain($"{file} is a file, not a directory"));
        Assert.That(error.Message, Does.Not.Contain("could not find").IgnoreCase);
    }

    [TestCase("/proc/slatesharp-test-db", "proc")]
    [TestCase("/proc/self", "proc")]
    [TestCase("/sys/slatesharp-test-db", "sysfs")]
    [TestCase("/sys/kernel", "sysfs")]
    public void A_root_on_a_kernel_pseudo_filesystem_is_invalid_for_writers_and_readers(string root, string filesystem)
    {
        foreach (var readOnly in new[] { false, true })
        {
            var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(root, new LocalStoreOptions { ReadOnly = readOnly }));

            TestContext.Out.WriteLine(error!.Message);
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid), error.Message);
            Assert.That(error.Message, Does.Contain($"path={root}"));
            Assert.That(error.Message, Does.Contain($"kernel pseudo-filesystem ({filesystem})"));
            Assert.That(error.Message, Does.Not.Contain("could not find").IgnoreCase);
        }
    }

    [Test]
    public void A_missing_root_is_created_by_a_writer_and_invalid_for_a_reader()
    {
        using var parent = new TestDirectory();
        var root = Path.Combine(parent.Path, "missing", "db");

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(root, new LocalStoreOptions { ReadOnly = true }));
        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("does not exist").And.Contain($"path={root}"));
        Assert.That(error.Message, Does.Contain("open it for writing to create it"));
        Assert.That(Directory.Exists(Path.Combine(parent.Path, "missing")), Is.False, "a read-only open creates nothing");

        using var writer = LocalFileSystemObjectStore.Open(root);
        Assert.That(Directory.Exists(root), Is.True);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void A_file_url_pointing_at_a_file_is_invalid(bool readOnly)
    {
        using var parent = new TestDirectory();
        var file = Path.Combine(parent.Path, "plain-file");
        File.WriteAllText(file, "not a directory");

        var error = Assert.ThrowsAsync<SlateSharpException>(async () =>
            await ObjectStores.OpenAsync("file://" + file, new ObjectStoreOptions { ReadOnly = readOnly }));

        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("is a file, not a directory").And.Contain($"path={file}"));
    }

    [TestCase("file:///tmp/a%00b")]
    [TestCase("file:///tmp/a%0Ab")]
    public void A_file_url_with_a_control_character_is_invalid(string url)
    {
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await ObjectStores.OpenAsync(url));

        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("control character"));
    }

    [TestCase(null)]
    [TestCase(CommitStrategy.LockedRename)]
    public async Task Puts_and_deletes_in_a_directory_that_became_unwritable_are_invalid_and_name_the_object(CommitStrategy? strategy)
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ForceCommitStrategy = strategy });
        await store.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent);
        using var wal = RestrictedDirectory.Immutable(Path.Combine(directory.Path, "wal"));
        using var root = RestrictedDirectory.Immutable(directory.Path);

        var errors = new List<(string Object, SlateSharpException Error)>
        {
            ("wal/2", Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(P("wal/2"), Bytes, PutMode.CreateIfAbsent))!),
            ("wal/3", Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(P("wal/3"), new MemoryStream(Bytes), PutMode.Overwrite))!),
            ("wal/1", Assert.ThrowsAsync<SlateSharpException>(async () => await store.DeleteAsync(P("wal/1")))!),
            ("compacted/x", Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(P("compacted/x"), Bytes, PutMode.Overwrite))!),
        };

        foreach (var (name, error) in errors)
        {
            TestContext.Out.WriteLine(error.Message);
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid), error.Message);
            Assert.That(error.Message, Does.Contain($"path={directory.Path}/{name}"));
            Assert.That(error.Message, Does.Contain("EPERM").Or.Contain("EACCES"));
            Assert.That(error.Message, Does.Contain("write access"));
        }

        Assert.That((await store.HeadAsync(P("wal/1")))!.Size, Is.EqualTo(Bytes.Length), "reads still work");
        Assert.That(await store.ListAsync(string.Empty).Select(m => m.Path.Value).ToListAsync(), Is.EqualTo(new[] { "wal/1" }));
    }

    [Test]
    public async Task A_put_on_a_filesystem_turned_read_only_under_an_open_store_is_invalid_with_erofs()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(P("a"), Bytes, PutMode.CreateIfAbsent);
        using var readOnly = RestrictedDirectory.BindReadOnly(directory.Path);

        var put = Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(P("b"), Bytes, PutMode.CreateIfAbsent));
        var delete = Assert.ThrowsAsync<SlateSharpException>(async () => await store.DeleteAsync(P("a")));

        foreach (var error in new[] { put!, delete! })
        {
            TestContext.Out.WriteLine(error.Message);
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid), error.Message);
            Assert.That(error.Message, Does.Contain("EROFS").And.Contain("remount"));
        }
    }

    [TestCase(5, ErrorKind.Unavailable, "EIO")]
    [TestCase(28, ErrorKind.Unavailable, "ENOSPC")]
    [TestCase(122, ErrorKind.Unavailable, "EDQUOT")]
    [TestCase(30, ErrorKind.Invalid, "EROFS")]
    [TestCase(13, ErrorKind.Invalid, "EACCES")]
    public async Task A_failed_publish_is_typed_by_its_errno_and_leaves_no_object(int errno, ErrorKind kind, string name)
    {
        foreach (var strategy in new[] { CommitStrategy.HardLink, CommitStrategy.RenameNoReplace, CommitStrategy.LockedRename })
        {
            using var directory = new TestDirectory();
            var calls = new FaultyFileSystemCalls();
            using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ForceCommitStrategy = strategy, Calls = calls });
            calls.PublishErrno = errno;

            var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent));

            TestContext.Out.WriteLine(error!.Message);
            Assert.That(error.Kind, Is.EqualTo(kind), $"{strategy}: {error.Message}");
            Assert.That(error.Message, Does.Contain(name).And.Contain($"path={directory.Path}/wal/1"), strategy.ToString());
            calls.PublishErrno = null;
            Assert.That(await store.HeadAsync(P("wal/1")), Is.Null, strategy.ToString());
            Assert.That(Directory.EnumerateFiles(Path.Combine(directory.Path, "wal"), LocalFileSystemObjectStore.TempPrefix + "*"), Is.Empty, $"{strategy}: the temporary file is removed");
        }
    }

    [Test]
    public async Task Reads_of_a_path_through_an_object_find_nothing()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(P("a"), Bytes, PutMode.CreateIfAbsent);

        Assert.That(await store.HeadAsync(P("a/b")), Is.Null);
        Assert.That(await store.GetAsync(P("a/b"), ByteRange.All), Is.Null);
        Assert.That(await store.ListAsync("a/").ToListAsync(), Is.Empty);
        Assert.DoesNotThrowAsync(async () => await store.DeleteAsync(P("a/b")));
        Assert.DoesNotThrowAsync(async () => await store.DeleteAsync(P("missing/b")));
        Assert.That(await store.HeadAsync(P("a")), Is.Not.Null);
    }

    [Test]
    public async Task Deleting_a_directory_of_objects_is_a_no_op()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path);
        await store.PutAsync(P("dir/object"), Bytes, PutMode.CreateIfAbsent);

        await store.DeleteAsync(P("dir"));

        Assert.That(await store.HeadAsync(P("dir/object")), Is.Not.Null);
    }
}
