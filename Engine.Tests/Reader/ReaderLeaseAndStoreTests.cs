using System.Text;
using SlateSharp.Leases;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Reader;

/// <summary>The reader's lease, its read-only open of a local directory, and the pins reads hold.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReaderLeaseAndStoreTests
{
    private static readonly DbOptions Writer = new() { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 5 };

    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    [Test]
    public async Task The_lease_names_the_manifest_read_moves_on_after_the_reader_does_and_is_deleted_on_dispose()
    {
        var store = new InMemoryObjectStore();
        var clock = new StepClock();
        var lifetime = TimeSpan.FromMinutes(3);
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Writer);
        await db.PutAsync(B("a"), B("1"));
        var leases = new ReaderLeaseStore(new SlateSharp.Storage.Decorators.PrefixedObjectStore(store, "db"));
        var reader = await DbReader.OpenAsync(store, "db", new DbReaderOptions { TimeProvider = clock, LeaseLifetime = lifetime, RandomSeed = 9 });

        var (stored, _) = await leases.ListAsync(CancellationToken.None);
        Assert.That(stored, Has.Count.EqualTo(1));
        Assert.That(stored[0].Id, Is.EqualTo(reader.LeaseId));
        Assert.That(stored[0].ManifestId, Is.EqualTo(reader.ManifestId));
        Assert.That(stored[0].ExpiresAt, Is.EqualTo((clock.GetUtcNow() + lifetime).ToUnixTimeMilliseconds()));

        // A scan in flight holds the opened manifest: the lease must keep naming it after the reader moves on.
        var opened = reader.ManifestId;
        var scan = reader.ScanAsync(KeyRange.All).GetAsyncEnumerator();
        Assert.That(await scan.MoveNextAsync(), Is.True);
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await reader.RefreshAsync(CancellationToken.None);
        Assert.That(reader.ManifestId, Is.GreaterThan(opened));
        await clock.WhenArmedAsync(lifetime / 3);
        clock.Advance(lifetime / 3);
        await WaitForLeaseAsync(leases, l => l.ExpiresAt == (clock.GetUtcNow() + lifetime).ToUnixTimeMilliseconds());
        Assert.That((await leases.ListAsync(CancellationToken.None)).Leases.Single().ManifestId, Is.EqualTo(opened), "renewed, still naming the manifest the scan reads");

        await scan.DisposeAsync();
        await clock.WhenArmedAsync(lifetime / 3);
        clock.Advance(lifetime / 3);
        await WaitForLeaseAsync(leases, l => l.ManifestId == reader.ManifestId);

        await reader.DisposeAsync();
        Assert.That((await leases.ListAsync(CancellationToken.None)).Leases, Is.Empty);
    }

    [Test]
    public async Task A_reader_opens_a_local_directory_without_write_permission_and_without_any_commit_primitive()
    {
        using var directory = new TestDirectory();
        var url = "file://" + directory.Path;
        await using (var db = await SlateSharp.Db.OpenAsync(url, Writer))
        {
            await db.PutAsync(B("a"), B("1"));
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            await db.PutAsync(B("b"), B("2"));
            await db.FlushAsync();
            await db.SimulateCrashAsync(); // leave b in the WAL only
        }

        var before = Snapshot(directory.Path);
        SetWritable(directory.Path, writable: false);
        try
        {
            var calls = new RefusingCalls();
            var options = new DbReaderOptions
            {
                UseLease = false,
                TimeProvider = new StepClock(),
                ObjectStore = new ObjectStoreOptions { Local = new LocalStoreOptions { Calls = calls } },
            };
            await using (var reader = await DbReader.OpenAsync(url, options))
            {
                Assert.That(S(await reader.GetAsync(B("a"))), Is.EqualTo("1"), "from L0");
                Assert.That(S(await reader.GetAsync(B("b"))), Is.EqualTo("2"), "from the WAL");
                await reader.RefreshAsync(CancellationToken.None);
            }

            Assert.That(calls.Made, Is.Empty, "no link, rename, lock or filesystem probe");
            Assert.That(Snapshot(directory.Path), Is.EqualTo(before), "nothing written, nothing touched");
        }
        finally
        {
            SetWritable(directory.Path, writable: true);
        }

        // With a lease, the one object written is the lease, by a plain rename: still no probe, no lock, no link.
        var leaseCalls = new RefusingCalls(allowRename: true);
        await using (var reader = await DbReader.OpenAsync(url, new DbReaderOptions
        {
            TimeProvider = new StepClock(),
            ObjectStore = new ObjectStoreOptions { Local = new LocalStoreOptions { Calls = leaseCalls } },
        }))
        {
            Assert.That(S(await reader.GetAsync(B("b"))), Is.EqualTo("2"));
            var added = Snapshot(directory.Path).Keys.Except(before.Keys).ToList();
            Assert.That(added, Is.EqualTo(new[] { "leases/" + reader.LeaseId!.Value.ToString("N") + ".lease" }));
        }

        Assert.That(leaseCalls.Made, Does.Contain("rename").And.All.EqualTo("rename"));
    }

    [Test]
    public async Task A_scan_in_flight_keeps_its_ssts_pinned_until_it_ends()
    {
        var store = new InMemoryObjectStore();
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 5, Compaction = new CompactionOptions { Enabled = false, MinSourcesPerJob = 2 } };
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        foreach (var k in new[] { "a", "b", "c" })
        {
            await db.PutAsync(B(k), B("v"));
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        var ssts = db.Manifest.Manifest.L0.Select(h => h.Id).ToList();
        Assert.That(ssts, Has.Count.EqualTo(3));
        Assert.That(db.Pins.Snapshot(), Is.EquivalentTo(ssts), "the current view pins exactly its ssts");

        var scan = db.ScanAsync(KeyRange.All).GetAsyncEnumerator();
        Assert.That(await scan.MoveNextAsync(), Is.True);

        // A compactor elsewhere replaces the three ssts by one run, and the writer's view moves on to it.
        await using (var compactor = await DbCompactor.OpenAsync(store, "db", options))
        {
            Assert.That(await compactor.RunOnceAsync(), Is.True);
        }

        await db.RefreshViewAsync();
        var outputs = db.Manifest.Manifest.SortedRuns.SelectMany(r => r.Ssts).Select(h => h.Id).ToList();
        Assert.That(db.Manifest.Manifest.L0, Is.Empty);
        Assert.That(db.Pins.Snapshot(), Is.SupersetOf(ssts).And.SupersetOf(outputs), "the scan still pins what it reads; the view pins the run");

        Assert.That(await scan.MoveNextAsync(), Is.True);
        await scan.DisposeAsync();
        Assert.That(db.Pins.Snapshot(), Is.EquivalentTo(outputs), "the scan's pins are released once it is disposed");

        Assert.That(S(await db.GetAsync(B("a"))), Is.EqualTo("v"));
        Assert.That(db.Pins.Snapshot(), Is.EquivalentTo(outputs), "a get releases its pin when it returns");
    }

    private static async Task WaitForLeaseAsync(ReaderLeaseStore leases, Func<ReaderLease, bool> condition)
    {
        // The renewal runs on the thread pool after the clock fires; poll the stored object, bounded.
        for (var attempt = 0; attempt < 2000; attempt++)
        {
            var (stored, _) = await leases.ListAsync(CancellationToken.None);
            if (stored.Count == 1 && condition(stored[0]))
            {
                return;
            }

            await Task.Yield();
        }

        Assert.Fail("the lease was not rewritten");
    }

    private static Dictionary<string, (long Size, DateTime Modified)> Snapshot(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => (new FileInfo(f).Length, File.GetLastWriteTimeUtc(f)));

    private static void SetWritable(string root, bool writable)
    {
        var mode = writable
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            : UnixFileMode.UserRead | UnixFileMode.UserExecute;
        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Prepend(root))
        {
            File.SetUnixFileMode(dir, mode);
        }
    }

    /// <summary>File system calls that record every call and refuse the commit primitives (and renames, unless allowed).</summary>
    private sealed class RefusingCalls(bool allowRename = false) : IFileSystemCalls
    {
        public List<string> Made { get; } = [];

        public int Link(string existingPath, string newPath) => Refuse("link");

        public int RenameNoReplace(string sourcePath, string destinationPath) => Refuse("renameat2");

        public int Rename(string sourcePath, string destinationPath)
        {
            if (!allowRename)
            {
                return Refuse("rename");
            }

            Record("rename");
            return PosixFileSystemCalls.Instance.Rename(sourcePath, destinationPath);
        }

        public int Flock(int fd, int operation) => Refuse("flock");

        public long? FilesystemType(string path)
        {
            Record("statfs");
            return PosixFileSystemCalls.Instance.FilesystemType(path);
        }

        private int Refuse(string call)
        {
            Record(call);
            return 1; // EPERM
        }

        private void Record(string call)
        {
            lock (Made)
            {
                Made.Add(call);
            }
        }
    }
}
