using Amazon.Runtime;
using SlateSharp.Storage;
using SlateSharp.Storage.Gcs;
using SlateSharp.Storage.S3;

namespace SlateSharp.Tests.TestSupport;

/// <summary>Opens the cloud stores the tests use, each under a fresh key prefix of the shared test bucket.</summary>
public static class CloudStores
{
    public const string GcsBucket = "slatesharp-test";

    public static BasicAWSCredentials S3Credentials { get; } = new("test", "testsecret");

    /// <summary>An <c>s3://</c> store on the RGW test server, through <see cref="ObjectStores.OpenAsync"/>.</summary>
    public static async Task<IObjectStore> OpenS3Async(string prefix, int listPageSize = 1000, RetryOptions? retry = null)
    {
        if (TestEnvironment.S3Endpoint is not { } endpoint)
        {
            TestEnvironment.Missing("the S3 test server (SLATESHARP_TEST_S3_ENDPOINT)");
            throw new InvalidOperationException();
        }

        return await ObjectStores.OpenAsync($"s3://{TestEnvironment.S3Bucket}/{prefix}", new ObjectStoreOptions
        {
            S3 = new S3StoreOptions { Endpoint = endpoint, Credentials = S3Credentials, ListPageSize = listPageSize },
            Retry = retry ?? new RetryOptions(),
        });
    }

    /// <summary>The emulator's address, or ignores/fails the test when it is not running.</summary>
    public static Uri GcsEmulator()
    {
        if (TestEnvironment.GcsEmulator is not { } emulator)
        {
            TestEnvironment.Missing("the GCS emulator (SLATESHARP_TEST_GCS_EMULATOR)");
            throw new InvalidOperationException();
        }

        return emulator;
    }

    /// <summary>A <c>gs://</c> store talking to <paramref name="endpoint"/> anonymously.</summary>
    public static async Task<IObjectStore> OpenGcsAsync(Uri endpoint, string prefix, int listPageSize = 1000, RetryOptions? retry = null, bool readOnly = false) =>
        await ObjectStores.OpenAsync($"gs://{GcsBucket}/{prefix}", new ObjectStoreOptions
        {
            Gcs = new GcsStoreOptions { Endpoint = endpoint, Anonymous = true, ListPageSize = listPageSize },
            Retry = retry ?? new RetryOptions(),
            ReadOnly = readOnly,
        });

    /// <summary>Deletes every object of <paramref name="store"/>.</summary>
    public static async Task EmptyAsync(IObjectStore store)
    {
        var paths = new List<ObjectPath>();
        await foreach (var item in store.ListAsync(string.Empty))
        {
            paths.Add(item.Path);
        }

        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (path, ct) => await store.DeleteAsync(path, ct));
        await store.DisposeAsync();
    }
}

/// <summary>S3 on Ceph RGW: a real S3 implementation that enforces If-None-Match and If-Match.</summary>
public sealed class S3Target() : StoreTarget("s3-rgw")
{
    private IObjectStore? _store;
    private int _tests;

    public override int? ListPageSize => 100;

    public override async Task<IObjectStore> CreateAsync()
    {
        var test = Interlocked.Increment(ref _tests);
        _store = await CloudStores.OpenS3Async($"conformance/{TestEnvironment.RunId}/test-{test:D4}", ListPageSize!.Value);
        return _store;
    }

    public override async Task CleanUpAsync()
    {
        if (_store is not null)
        {
            await CloudStores.EmptyAsync(_store);
            _store = null;
        }
    }
}

/// <summary>
/// GCS on the firebase-tools emulator (the real JSON API wire format) behind <see cref="GcsPreconditionProxy"/> (which
/// enforces the generation preconditions the emulator ignores and keeps chunked resumable sessions).
/// </summary>
public sealed class GcsTarget() : StoreTarget("gcs-emulator")
{
    private GcsPreconditionProxy? _proxy;
    private IObjectStore? _store;
    private int _tests;

    public override int? ListPageSize => 100;

    public override async Task<IObjectStore> CreateAsync()
    {
        _proxy ??= new GcsPreconditionProxy(CloudStores.GcsEmulator());
        var test = Interlocked.Increment(ref _tests);
        _store = await CloudStores.OpenGcsAsync(_proxy.Endpoint, $"conformance/{TestEnvironment.RunId}/test-{test:D4}", ListPageSize!.Value);
        return _store;
    }

    public override async Task CleanUpAsync()
    {
        if (_store is not null)
        {
            await CloudStores.EmptyAsync(_store);
            _store = null;
        }
    }

    public override Task DisposeAsync()
    {
        _proxy?.Dispose();
        _proxy = null;
        return Task.CompletedTask;
    }
}
