using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// One backend the conformance suite runs against. <see cref="CreateAsync"/> gives each test a fresh, empty store
/// (a new directory, bucket prefix or memory store) that <see cref="CleanUpAsync"/> removes afterwards.
/// </summary>
public abstract class StoreTarget
{
    protected StoreTarget(string name) => Name = name;

    public string Name { get; }

    /// <summary>True when the store uploads from a stream with bounded memory (every backend but memory).</summary>
    public virtual bool StreamsLargeObjects => true;

    /// <summary>
    /// How many objects one list request returns, for backends that page (memory, S3, GCS); null for directory
    /// walks, which do not page.
    /// </summary>
    public virtual int? ListPageSize => null;

    /// <summary>
    /// True where every request costs tens of milliseconds and writes are serialised (the s3fs mount): heavy tests
    /// scale their counts down there.
    /// </summary>
    public virtual bool IsSlow => false;

    /// <summary>Creates a fresh empty store, or calls <see cref="TestEnvironment.Missing"/> when the backend is unavailable.</summary>
    public abstract Task<IObjectStore> CreateAsync();

    /// <summary>Removes what one test created.</summary>
    public virtual Task CleanUpAsync() => Task.CompletedTask;

    /// <summary>Removes what the whole fixture created.</summary>
    public virtual Task DisposeAsync() => Task.CompletedTask;

    public override string ToString() => Name;
}

/// <summary>The in-memory store.</summary>
public sealed class MemoryTarget() : StoreTarget("memory")
{
    public override bool StreamsLargeObjects => false;

    public override int? ListPageSize => 1000;

    public override Task<IObjectStore> CreateAsync() => Task.FromResult<IObjectStore>(new InMemoryObjectStore("conformance"));
}

/// <summary>A local directory under the system temp dir, with an optional forced strategy: a new store per test.</summary>
public sealed class LocalTarget(string name, CommitStrategy? strategy = null) : StoreTarget(name)
{
    private TestDirectory? _directory;
    private LocalFileSystemObjectStore? _store;

    public override Task<IObjectStore> CreateAsync()
    {
        _directory = new TestDirectory();
        _store = LocalFileSystemObjectStore.Open(_directory.Path, new LocalStoreOptions { ForceCommitStrategy = strategy });
        return Task.FromResult<IObjectStore>(_store);
    }

    public override Task CleanUpAsync()
    {
        _store?.Dispose();
        _directory?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// A directory on an s3fs mount (no hard links, so the store must choose <see cref="CommitStrategy.LockedRename"/>):
/// by default the mount made with the test runner's options (SLATESHARP_TEST_FUSE_DIR); <see cref="Defaults"/> is the
/// mount made with s3fs defaults (SLATESHARP_TEST_FUSE_DEFAULTS_DIR), several times slower.
/// Every operation there costs tens of milliseconds, so the store is opened (and probed) once, and each test works in
/// a fresh sub-directory of it.
/// </summary>
/// <param name="name">The target's name in test names.</param>
/// <param name="mount">The mount's directory, null when the runner did not make it.</param>
/// <param name="variable">The environment variable that names the mount, for the "missing" message.</param>
public sealed class FuseTarget(string name, string? mount, string? variable = null) : StoreTarget(name)
{
    /// <summary>The mount made with the test runner's options.</summary>
    public FuseTarget()
        : this("fuse-s3fs", TestEnvironment.FuseDirectory, "SLATESHARP_TEST_FUSE_DIR")
    {
    }

    /// <summary>The mount made with s3fs defaults.</summary>
    public static FuseTarget Defaults() =>
        new("fuse-s3fs-defaults", TestEnvironment.FuseDefaultsDirectory, "SLATESHARP_TEST_FUSE_DEFAULTS_DIR");

    public override bool IsSlow => true;

    private TestDirectory? _directory;
    private LocalFileSystemObjectStore? _store;
    private int _tests;

    /// <summary>The mount's directory; calls <see cref="TestEnvironment.Missing"/> when the runner did not make it.</summary>
    public string Mount
    {
        get
        {
            if (mount is null)
            {
                TestEnvironment.Missing($"the s3fs FUSE mount of target {Name} ({variable ?? "see Engine.Tests/run-tests.sh"})");
                throw new InvalidOperationException();
            }

            return mount;
        }
    }

    public override Task<IObjectStore> CreateAsync()
    {
        if (_store is null)
        {
            _directory = new TestDirectory(Mount);
            _store = LocalFileSystemObjectStore.Open(_directory.Path);
            Assert.That(_store.CommitStrategy, Is.EqualTo(CommitStrategy.LockedRename), "s3fs has neither link() nor RENAME_NOREPLACE");
        }

        var test = Interlocked.Increment(ref _tests);
        return Task.FromResult(Prefixed(_store, $"test-{test:D4}"));
    }

    internal static IObjectStore Prefixed(IObjectStore store, string prefix) =>
        new SlateSharp.Storage.Decorators.PrefixedObjectStore(store, prefix);

    public override Task DisposeAsync()
    {
        // Close the store's lock files before removing the directory: s3fs 1.90 crashes on rmdir of a directory
        // holding a file that is still open.
        _store?.Dispose();
        _store = null;
        _directory?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Every backend the conformance suite covers; backends that need a server add themselves here.</summary>
public static class StoreTargets
{
    /// <summary>The backends the database tests run on: one of each kind.</summary>
    public static IEnumerable<StoreTarget> ForDb()
    {
        yield return new MemoryTarget();
        yield return new LocalTarget("local");
        yield return new FuseTarget();
        yield return new S3Target();
        yield return new GcsTarget();
    }

    /// <summary>The local disk and the S3 server: where heavy database tests (a million keys) run.</summary>
    public static IEnumerable<StoreTarget> Heavy()
    {
        yield return new LocalTarget("local");
        yield return new S3Target();
    }

    public static IEnumerable<StoreTarget> All()
    {
        yield return new MemoryTarget();
        yield return new LocalTarget("local");
        yield return new LocalTarget("local-hardlink", CommitStrategy.HardLink);
        yield return new LocalTarget("local-renamenoreplace", CommitStrategy.RenameNoReplace);
        yield return new LocalTarget("local-lockedrename", CommitStrategy.LockedRename);
        yield return new FuseTarget();
        yield return new S3Target();
        yield return new GcsTarget();
    }
}
