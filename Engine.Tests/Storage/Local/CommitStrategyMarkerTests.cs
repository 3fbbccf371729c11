using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// A store records which kind of commit strategy publishes in each directory it writes, and a store of the other
/// kind refuses to write there: a locked rename's check-then-rename could replace an object a link() publisher had
/// just created.
/// </summary>
public sealed class CommitStrategyMarkerTests
{
    private static readonly byte[] Bytes = Encoding.ASCII.GetBytes("content");

    private static ObjectPath P(string path) => ObjectPath.Parse(path);

    private static LocalFileSystemObjectStore Open(string root, CommitStrategy strategy) =>
        LocalFileSystemObjectStore.Open(root, new LocalStoreOptions { ForceCommitStrategy = strategy });

    [TestCase(CommitStrategy.HardLink, CommitStrategy.LockedRename)]
    [TestCase(CommitStrategy.RenameNoReplace, CommitStrategy.LockedRename)]
    [TestCase(CommitStrategy.LockedRename, CommitStrategy.HardLink)]
    [TestCase(CommitStrategy.LockedRename, CommitStrategy.RenameNoReplace)]
    public async Task A_store_of_the_other_kind_refuses_to_open_for_writing_while_the_first_is_open_and_after(CommitStrategy first, CommitStrategy second)
    {
        using var directory = new TestDirectory();
        using (var writer = Open(directory.Path, first))
        {
            await writer.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent);

            var whileOpen = Assert.Throws<SlateSharpException>(() => Open(directory.Path, second));

            TestContext.Out.WriteLine(whileOpen!.Message);
            AssertNamesBoth(whileOpen, directory.Path, first, second);
        }

        var afterClose = Assert.Throws<SlateSharpException>(() => Open(directory.Path, second));
        AssertNamesBoth(afterClose!, directory.Path, first, second);
        using var again = Open(directory.Path, first);
        Assert.That((await again.PutAsync(P("wal/2"), Bytes, PutMode.CreateIfAbsent)).Stored, Is.True, "the first kind still opens");
    }

    [TestCase(CommitStrategy.HardLink, CommitStrategy.RenameNoReplace)]
    [TestCase(CommitStrategy.RenameNoReplace, CommitStrategy.HardLink)]
    [TestCase(CommitStrategy.HardLink, CommitStrategy.HardLink)]
    [TestCase(CommitStrategy.LockedRename, CommitStrategy.LockedRename)]
    public async Task Compatible_strategies_share_a_directory(CommitStrategy first, CommitStrategy second)
    {
        using var directory = new TestDirectory();
        using var a = Open(directory.Path, first);
        using var b = Open(directory.Path, second);

        var results = new[]
        {
            await a.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent),
            await b.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent),
            await b.PutAsync(P("wal/2"), Bytes, PutMode.CreateIfAbsent),
        };

        Assert.That(results.Select(r => r.Outcome), Is.EqualTo(new[] { PutOutcome.Stored, PutOutcome.AlreadyExists, PutOutcome.Stored }));
        Assert.That(await a.ListAsync(string.Empty).Select(m => m.Path.Value).ToListAsync(), Is.EqualTo(new[] { "wal/1", "wal/2" }), "markers are never listed");
    }

    [Test]
    public async Task A_store_rooted_above_another_is_refused_in_the_directories_the_other_writes()
    {
        using var parent = new TestDirectory();
        var inner = Path.Combine(parent.Path, "db");
        using var locked = Open(inner, CommitStrategy.LockedRename);
        await locked.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent);
        using var outer = Open(parent.Path, CommitStrategy.HardLink);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await outer.PutAsync(P("db/wal/2"), Bytes, PutMode.CreateIfAbsent));
        var elsewhere = await outer.PutAsync(P("other/x"), Bytes, PutMode.CreateIfAbsent);

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain($"directory {inner}/wal is written by stores that publish with LockedRename"));
        Assert.That(error.Message, Does.Contain($"path={inner}/wal/2"));
        Assert.That(await locked.HeadAsync(P("wal/2")), Is.Null, "the refused put wrote nothing");
        Assert.That(elsewhere.Stored, Is.True, "directories the other store never wrote are free");
    }

    [Test]
    public void Read_only_opens_write_no_marker()
    {
        using var directory = new TestDirectory();

        using (LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ReadOnly = true }))
        {
        }

        Assert.That(Directory.EnumerateFileSystemEntries(directory.Path), Is.Empty);
        using var locked = Open(directory.Path, CommitStrategy.LockedRename);
        Assert.That(File.Exists(Path.Combine(directory.Path, StrategyMarkers.LockedRenameName)), Is.True);
        using var reader = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ReadOnly = true });
        Assert.That(File.Exists(Path.Combine(directory.Path, StrategyMarkers.NoReplaceName)), Is.False, "a reader never marks, whatever the filesystem offers");
    }

    [Test]
    public async Task Deleting_a_stale_marker_as_the_error_says_lets_the_other_kind_open()
    {
        using var directory = new TestDirectory();
        using (var locked = Open(directory.Path, CommitStrategy.LockedRename))
        {
            await locked.PutAsync(P("wal/1"), Bytes, PutMode.CreateIfAbsent);
        }

        var error = Assert.Throws<SlateSharpException>(() => LocalFileSystemObjectStore.Open(directory.Path));
        var marker = Path.Combine(directory.Path, StrategyMarkers.LockedRenameName);
        Assert.That(error!.Message, Does.Contain($"delete {marker}"));

        File.Delete(marker);
        File.Delete(Path.Combine(directory.Path, "wal", StrategyMarkers.LockedRenameName));
        using var store = LocalFileSystemObjectStore.Open(directory.Path);

        Assert.That(store.CommitStrategy, Is.EqualTo(CommitStrategy.HardLink));
        Assert.That((await store.PutAsync(P("wal/2"), Bytes, PutMode.CreateIfAbsent)).Stored, Is.True);
    }

    [Test]
    public async Task Two_stores_of_different_kinds_opening_at_once_never_both_write_a_directory()
    {
        const int Rounds = 20;
        var seed = TestSeeds.Get(9_003);
        var random = new Random(seed);
        var bothOpened = 0;
        for (var round = 0; round < Rounds; round++)
        {
            using var directory = new TestDirectory();
            var kinds = random.Next(2) == 0
                ? new[] { CommitStrategy.HardLink, CommitStrategy.LockedRename }
                : new[] { CommitStrategy.LockedRename, CommitStrategy.RenameNoReplace };
            using var start = new Barrier(2);
            var opens = kinds.Select(kind => Task.Run(() =>
            {
                start.SignalAndWait();
                try
                {
                    return Open(directory.Path, kind);
                }
                catch (SlateSharpException e) when (e.Kind == ErrorKind.Invalid)
                {
                    return null;
                }
            })).ToArray();
            var stores = await Task.WhenAll(opens);

            var opened = stores.Count(s => s is not null);
            Assert.That(opened, Is.EqualTo(1), $"round {round} seed {seed}: exactly one kind may own the directory");
            bothOpened += opened == 2 ? 1 : 0;
            foreach (var store in stores)
            {
                store?.Dispose();
            }
        }

        Assert.That(bothOpened, Is.Zero);
    }

    private static void AssertNamesBoth(SlateSharpException error, string directory, CommitStrategy first, CommitStrategy second)
    {
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain($"directory {directory} is written by stores that publish with"));
        Assert.That(error.Message, Does.Contain(first == CommitStrategy.LockedRename ? "LockedRename" : "HardLink or RenameNoReplace"));
        Assert.That(error.Message, Does.Contain($"this store publishes with {second}"));
        Assert.That(error.Message, Does.Contain("delete " + directory + "/.slatesharp-commit-"), "says what to do");
    }
}
