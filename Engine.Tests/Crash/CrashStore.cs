using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// Where the kill test keeps its databases: a store the child and the parent both open by URL. Each database lives
/// under its own name; <see cref="DeleteAsync"/> removes one, <see cref="DisposeAsync"/> everything.
/// </summary>
public abstract class CrashStore(string name)
{
    public string Name { get; } = name;

    /// <summary>The WAL flush interval the child and parent use: longer where every request costs tens of milliseconds.</summary>
    public virtual int FlushIntervalMs => 10;

    /// <summary>True where every request costs tens of milliseconds (the s3fs mounts): cycles aim at earlier crash points.</summary>
    public virtual bool IsSlow => false;

    /// <summary>The endpoint for <c>s3://</c> URLs.</summary>
    public virtual string? S3Endpoint => null;

    /// <summary>The URL of database <paramref name="database"/>; calls <see cref="TestEnvironment.Missing"/> when the store is not available.</summary>
    public abstract string Url(string database);

    public abstract Task DeleteAsync(string database);

    public abstract Task DisposeAsync();

    public override string ToString() => Name;
}

/// <summary>The stores the kill test runs on.</summary>
public static class CrashStores
{
    /// <summary>The s3fs mount made with s3fs defaults (only passwd_file, url, use_path_request_style).</summary>
    public const string FuseDefaultsVariable = "SLATESHARP_TEST_FUSE_DEFAULTS_DIR";

    public static IEnumerable<CrashStore> All()
    {
        yield return new DirectoryCrashStore("local", null, null);
        yield return new S3CrashStore();
        yield return new DirectoryCrashStore("fuse-s3fs", "SLATESHARP_TEST_FUSE_DIR", "the s3fs FUSE mount");
        yield return new DirectoryCrashStore("fuse-s3fs-defaults", FuseDefaultsVariable, "the s3fs FUSE mount with default options");
    }
}

/// <summary><c>file://</c> databases in a fresh directory: on the local disk, or on a FUSE mount named by an environment variable.</summary>
internal sealed class DirectoryCrashStore(string name, string? mountVariable, string? mountName) : CrashStore(name)
{
    private TestDirectory? _directory;

    public override int FlushIntervalMs => mountVariable is null ? 10 : 50;

    public override bool IsSlow => mountVariable is not null;

    public override string Url(string database)
    {
        if (_directory is null)
        {
            string? parent = null;
            if (mountVariable is not null && (parent = TestEnvironment.Get(mountVariable)) is null)
            {
                TestEnvironment.Missing($"{mountName} ({mountVariable})");
            }

            _directory = new TestDirectory(parent);
        }

        return "file://" + Path.Combine(_directory.Path, database);
    }

    public override Task DeleteAsync(string database)
    {
        if (_directory is not null && Directory.Exists(Path.Combine(_directory.Path, database)))
        {
            Directory.Delete(Path.Combine(_directory.Path, database), recursive: true);
        }

        return Task.CompletedTask;
    }

    public override Task DisposeAsync()
    {
        _directory?.Dispose();
        _directory = null;
        return Task.CompletedTask;
    }
}

/// <summary><c>s3://</c> databases on the RGW test server, under a prefix of the test bucket unique to this run.</summary>
internal sealed class S3CrashStore() : CrashStore("s3-rgw")
{
    private readonly string _prefix = $"crash/{TestEnvironment.RunId}";

    public override string? S3Endpoint => TestEnvironment.S3Endpoint;

    public override string Url(string database)
    {
        if (S3Endpoint is null)
        {
            TestEnvironment.Missing("the S3 test server (SLATESHARP_TEST_S3_ENDPOINT)");
        }

        return $"s3://{TestEnvironment.S3Bucket}/{_prefix}/{database}";
    }

    public override async Task DeleteAsync(string database)
    {
        if (S3Endpoint is not null)
        {
            await CloudStores.EmptyAsync(await CloudStores.OpenS3Async($"{_prefix}/{database}"));
        }
    }

    public override async Task DisposeAsync()
    {
        if (S3Endpoint is not null)
        {
            await CloudStores.EmptyAsync(await CloudStores.OpenS3Async(_prefix));
        }
    }
}
