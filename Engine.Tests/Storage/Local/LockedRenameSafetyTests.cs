using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// Where check-then-rename under a lock is allowed (filesystems on which a killed writer cannot release its lock
/// before its rename settled), and what a locked put does to stay safe: it reads the published file back before
/// letting go of the lock, and removes its temporary file under the lock when the rename fails.
/// </summary>
public sealed class LockedRenameSafetyTests
{
    private const long Cifs = 0xFF534D42;
    private const long Nfs = 0x6969;

    private static readonly byte[] Bytes = Encoding.ASCII.GetBytes("content");

    private static ObjectPath P(string path) => ObjectPath.Parse(path);

    [Test]
    public void A_network_filesystem_without_link_or_renameat2_is_refused_for_writing_and_the_error_says_why()
    {
        using var directory = new TestDirectory();
        var calls = new FaultyFileSystemCalls
        {
            LinkErrno = FaultyFileSystemCalls.ENotSup,
            RenameNoReplaceErrno = FaultyFileSystemCalls.EInval,
            FilesystemMagic = Cifs,
        };

        var automatic = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { Calls = calls }));
        var forced = Assert.Throws<SlateSharpException>(() =>
            LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { Calls = calls, ForceCommitStrategy = CommitStrategy.LockedRename }));

        TestContext.Out.WriteLine(automatic!.Message);
        foreach (var error in new[] { automatic, forced! })
        {
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
            Assert.That(error.Message, Does.Contain("killed rename: not known to settle on this filesystem (cifs)"));
            Assert.That(error.Message, Does.Contain(directory.Path));
        }

        Assert.That(automatic.Message, Does.Contain("s3://").And.Contain("gs://"), "says what to do");
        Assert.That(Directory.EnumerateFileSystemEntries(directory.Path), Is.Empty, "a refused open writes nothing");
    }

    [Test]
    public async Task On_a_network_filesystem_with_hard_links_the_store_writes_but_refuses_if_version_matches()
    {
        using var directory = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { Calls = new FaultyFileSystemCalls { FilesystemMagic = Nfs } });
        var stored = await store.PutAsync(P("manifest/1"), Bytes, PutMode.CreateIfAbsent);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () =>
            await store.PutAsync(P("manifest/1"), Bytes, PutMode.IfVersionMatches(stored.Version!.Value)));

        Assert.That(store.CommitStrategy, Is.EqualTo(CommitStrategy.HardLink));
        Assert.That(store.SupportsVersionMatch, Is.False);
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("nfs").And.Contain("killed writer"));
    }

    [TestCase(FilesystemKinds.Fuse)]
    [TestCase(0xEF53L)]
    public void Local_disks_and_fuse_mounts_allow_the_locked_rename(long magic)
    {
        using var directory = new TestDirectory();
        var calls = new FaultyFileSystemCalls
        {
            LinkErrno = FaultyFileSystemCalls.ENotSup,
            RenameNoReplaceErrno = FaultyFileSystemCalls.EInval,
            FilesystemMagic = magic,
        };

        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { Calls = calls });

        Assert.That(store.CommitStrategy, Is.EqualTo(CommitStrategy.LockedRename));
        Assert.That(store.Probe!.KilledRename.Detail, Does.Contain("settles before the lock is released"));
    }

    [Test]
    public async Task A_locked_put_whose_published_file_was_replaced_before_the_read_back_reports_an_unknown_outcome()
    {
        using var directory = new TestDirectory();
        var calls = new FaultyFileSystemCalls();
        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ForceCommitStrategy = CommitStrategy.LockedRename, Calls = calls });
        calls.AfterRename = destination =>
        {
            // What a late copy from a writer outside this mount would do between the rename and the read-back.
            File.WriteAllText(destination + ".late", "someone else's object");
            File.Move(destination + ".late", destination, overwrite: true);
        };

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent));
        calls.AfterRename = null;

        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Unavailable), "the outcome is unknown: neither stored nor not stored");
        Assert.That(error.Message, Does.Contain("not the one written").And.Contain($"path={directory.Path}/wal/1"));
        Assert.That(error.Message, Does.Contain("one mount").And.Contain("s3://"));
        Assert.That((await store.PutAsync(P("wal/2"), Bytes, PutMode.CreateIfAbsent)).Stored, Is.True, "an undisturbed put verifies");
    }

    [Test]
    public async Task A_failed_locked_rename_removes_the_temporary_file_before_the_lock_is_released()
    {
        using var directory = new TestDirectory();
        var calls = new FaultyFileSystemCalls();
        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ForceCommitStrategy = CommitStrategy.LockedRename, Calls = calls });
        await store.PutAsync(P("wal/0"), Bytes, PutMode.CreateIfAbsent);
        var tempsAtUnlock = new List<int>();
        calls.BeforeUnlock = () => tempsAtUnlock.Add(
            Directory.EnumerateFiles(Path.Combine(directory.Path, "wal"), LocalFileSystemObjectStore.TempPrefix + "*").Count());
        calls.PublishErrno = 5;

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent));

        Assert.That(error!.Message, Does.Contain("may or may not be stored"));
        Assert.That(tempsAtUnlock, Is.EqualTo(new[] { 0 }), "when the next writer gets the lock, nothing is left that a late rename could publish");
    }
}
