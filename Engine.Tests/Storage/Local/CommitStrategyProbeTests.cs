using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

public sealed class CommitStrategyProbeTests
{
    private static readonly FaultyFileSystemCalls NoHardLinksNoRenameNoReplace =
        new() { LinkErrno = FaultyFileSystemCalls.ENotSup, RenameNoReplaceErrno = FaultyFileSystemCalls.EInval };

    [Test]
    public void A_local_disk_offers_hard_links_and_the_probe_leaves_nothing_behind()
    {
        using var directory = new TestDirectory();

        using var store = LocalFileSystemObjectStore.Open(directory.Path);

        Assert.That(store.CommitStrategy, Is.EqualTo(CommitStrategy.HardLink));
        Assert.That(store.Probe!.RenameNoReplace.Works, Is.True);
        Assert.That(store.Probe.Locking.Works, Is.True);
        Assert.That(EntriesBesideLocks(directory.Path), Is.EqualTo(new[] { StrategyMarkers.NoReplaceName }), "only the strategy marker");
    }

    [Test]
    public async Task Without_hard_links_or_renameat2_the_store_falls_back_to_locked_rename_and_still_works()
    {
        using var directory = new TestDirectory();

        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { Calls = NoHardLinksNoRenameNoReplace });
        var first = await store.PutAsync(ObjectPath.Parse("wal/1"), Encoding.ASCII.GetBytes("a"), PutMode.CreateIfAbsent);
        var second = await store.PutAsync(ObjectPath.Parse("wal/1"), Encoding.ASCII.GetBytes("b"), PutMode.CreateIfAbsent);

        Assert.That(store.CommitStrategy, Is.EqualTo(CommitStrategy.LockedRename));
        Assert.That(store.Probe!.HardLink.Detail, Does.Contain("ENOTSUP"));
        Assert.That(store.Probe.RenameNoReplace.Detail, Does.Contain("EINVAL"));
        Assert.That(first.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(second.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
    }

    [Test]
    public void Without_any_safe_primitive_opening_for_write_fails_clearly_and_writes_nothing()
    {
        using var directory = new TestDirectory();
        var options = new LocalStoreOptions { Calls = NoHardLinksNoRenameNoReplace, AllowLockedRenameFallback = false };

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(directory.Path, options));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain(directory.Path));
        Assert.That(error.Message, Does.Contain("link(): failed: ENOTSUP"));
        Assert.That(error.Message, Does.Contain("renameat2(RENAME_NOREPLACE): failed: EINVAL"));
        Assert.That(error.Message, Does.Contain("disabled by options"));
        Assert.That(error.Message, Does.Contain("s3://").And.Contain("gs://"));
        Assert.That(Directory.EnumerateFileSystemEntries(directory.Path), Is.Empty, "a refused open must leave the directory as it was");
    }

    [Test]
    public void A_refused_open_removes_the_root_it_created()
    {
        using var parent = new TestDirectory();
        var root = Path.Combine(parent.Path, "new-db");
        var options = new LocalStoreOptions { Calls = NoHardLinksNoRenameNoReplace, AllowLockedRenameFallback = false };

        Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(root, options));

        Assert.That(Directory.Exists(root), Is.False);
    }

    [Test]
    public void Without_enforced_locks_the_fallback_is_unavailable_too()
    {
        using var directory = new TestDirectory();
        var calls = new FaultyFileSystemCalls
        {
            LinkErrno = FaultyFileSystemCalls.ENotSup,
            RenameNoReplaceErrno = FaultyFileSystemCalls.EInval,
            FlockErrno = FaultyFileSystemCalls.ENotSup,
        };

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { Calls = calls }));

        Assert.That(error!.Message, Does.Contain("flock() + rename(): flock failed: ENOTSUP"));
    }

    [Test]
    public void Forcing_a_strategy_the_filesystem_lacks_fails_at_open()
    {
        using var directory = new TestDirectory();
        var options = new LocalStoreOptions { Calls = NoHardLinksNoRenameNoReplace, ForceCommitStrategy = CommitStrategy.HardLink };

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(directory.Path, options));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("forced commit strategy HardLink"));
    }

    [TestCase(CommitStrategy.HardLink)]
    [TestCase(CommitStrategy.RenameNoReplace)]
    [TestCase(CommitStrategy.LockedRename)]
    public void Each_strategy_can_be_forced_on_a_local_disk(CommitStrategy strategy)
    {
        using var directory = new TestDirectory();

        using var store = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ForceCommitStrategy = strategy });

        Assert.That(store.CommitStrategy, Is.EqualTo(strategy));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void On_s3fs_link_and_renameat2_are_missing_and_the_store_says_so(bool s3fsDefaults)
    {
        var mount = (s3fsDefaults ? FuseTarget.Defaults() : new FuseTarget()).Mount;

        using var directory = new TestDirectory(mount);
        using (var store = LocalFileSystemObjectStore.Open(directory.Path))
        {
            Assert.That(store.CommitStrategy, Is.EqualTo(CommitStrategy.LockedRename));
        }

        var error = Assert.Throws<SlateSharpException>(() =>
            LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { AllowLockedRenameFallback = false }));

        Assert.That(error!.Message, Does.Contain("link(): failed: ENOTSUP"));
        Assert.That(error.Message, Does.Contain("renameat2(RENAME_NOREPLACE): failed: EINVAL"));
        Assert.That(EntriesBesideLocks(directory.Path), Is.EqualTo(new[] { StrategyMarkers.LockedRenameName }), "only the marker of the first open");
    }

    private static List<string?> EntriesBesideLocks(string directory) =>
        Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName)
            .Where(name => !name!.StartsWith(DirectoryLocks.FilePrefix, StringComparison.Ordinal)).ToList();
}
