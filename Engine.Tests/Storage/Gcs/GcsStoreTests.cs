using System.Diagnostics;
using System.Text;
using Google.Apis.Auth.OAuth2;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.Gcs;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Gcs;

/// <summary>What the conformance suite does not cover: opening, errors, resumable uploads and put ids of <c>gs://</c> stores.</summary>
public sealed class GcsStoreTests
{
    private GcsPreconditionProxy? _proxy;

    [TearDown]
    public void StopProxy() => _proxy?.Dispose();

    private static string Prefix() => $"gcs-tests/{TestEnvironment.RunId}/{Guid.NewGuid():N}";

    private GcsPreconditionProxy Proxy(IReadOnlySet<string>? buckets = null, string? token = null) =>
        _proxy = new GcsPreconditionProxy(CloudStores.GcsEmulator(), buckets, token);

    private static Task<IObjectStore> OpenAsync(string url, GcsStoreOptions gcs, RetryOptions? retry = null, bool readOnly = false) =>
        ObjectStores.OpenAsync(url, new ObjectStoreOptions { Gcs = gcs, Retry = retry ?? new RetryOptions(), ReadOnly = readOnly }).AsTask();

    [Test]
    public async Task The_emulator_alone_is_refused_for_writing_because_it_ignores_preconditions_but_opens_read_only()
    {
        var emulator = CloudStores.GcsEmulator();

        var error = Assert.ThrowsAsync<SlateSharpException>(() => CloudStores.OpenGcsAsync(emulator, Prefix()));
        var reader = await CloudStores.OpenGcsAsync(emulator, Prefix(), readOnly: true);

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("does not enforce generation preconditions").And.Contain("ifGenerationMatch=0"));
        Assert.That(await reader.HeadAsync(ObjectPath.Parse("nothing")), Is.Null);
        Assert.That(await reader.ListAsync(string.Empty).CountAsync(), Is.Zero, "the probe object was deleted and is never listed");
    }

    [Test]
    public void A_missing_bucket_is_an_invalid_bucket_not_found_error()
    {
        var proxy = Proxy(buckets: new HashSet<string> { CloudStores.GcsBucket });

        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync(
            "gs://no-such-bucket/db", new GcsStoreOptions { Endpoint = proxy.Endpoint, Anonymous = true }, readOnly: true));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("bucket not found").And.Contain("bucket=no-such-bucket"));
    }

    [Test]
    public async Task Wrong_credentials_are_an_invalid_access_denied_error_and_right_ones_open()
    {
        var proxy = Proxy(token: "the-right-token");

        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync(
            $"gs://{CloudStores.GcsBucket}/{Prefix()}", new GcsStoreOptions { Endpoint = proxy.Endpoint, Credential = GoogleCredential.FromAccessToken("a-wrong-token") }));
        var store = await OpenAsync(
            $"gs://{CloudStores.GcsBucket}/{Prefix()}", new GcsStoreOptions { Endpoint = proxy.Endpoint, Credential = GoogleCredential.FromAccessToken("the-right-token") });

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("access denied").And.Contain("status=401"));
        await store.PutAsync(ObjectPath.Parse("x"), Encoding.UTF8.GetBytes("x"), PutMode.CreateIfAbsent);
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public void A_dead_endpoint_is_unavailable_naming_the_endpoint_within_a_bounded_time()
    {
        var endpoint = new Uri($"http://127.0.0.1:{TinyHttpServer.ClosedPort()}");
        var clock = Stopwatch.StartNew();

        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync("gs://bucket/db", new GcsStoreOptions { Endpoint = endpoint, Anonymous = true }));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain("cannot reach the endpoint").And.Contain(endpoint.ToString().TrimEnd('/')).And.Contain("gave up after 6 attempts"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));
    }

    [Test]
    public async Task A_409_conflict_on_a_conditional_upload_is_a_transient_failure_never_already_exists()
    {
        var proxy = Proxy();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, Prefix(), retry: new RetryOptions { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) });
        proxy.ConflictOnNamesContaining = "racing";

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(ObjectPath.Parse("wal/racing"), "x"u8.ToArray(), PutMode.CreateIfAbsent));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable), "409 says nothing about whether our object landed");
        Assert.That(error.Message, Does.Contain("status=409"));
        Assert.That(await store.HeadAsync(ObjectPath.Parse("wal/racing")), Is.Null);
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task A_resumable_upload_resumes_after_failed_chunks_and_keeps_its_put_id()
    {
        var proxy = Proxy();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, Prefix());
        const long Size = (20L << 20) + 77;
        proxy.FailNextChunkRequests(3);

        var put = await store.PutAsync(ObjectPath.Parse("compacted/big.sst"), new PatternStream(Size, 11), new PutOptions(PutMode.Overwrite, "resumed"));

        var head = await store.HeadAsync(ObjectPath.Parse("compacted/big.sst"));
        Assert.That(head!.Size, Is.EqualTo(Size));
        Assert.That(head.PutId, Is.EqualTo("resumed"));
        Assert.That(head.Version, Is.EqualTo(put.Version));
        var expected = new byte[1 << 20];
        foreach (var offset in new[] { 0L, 8L << 20, Size - (1 << 20) })
        {
            var got = await store.GetAsync(ObjectPath.Parse("compacted/big.sst"), ByteRange.FromOffset(offset, expected.Length));
            PatternStream.Fill(expected, offset, 11);
            Assert.That(got!.Data.ToArray(), Is.EqualTo(expected), $"offset {offset}");
        }

        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task A_large_conditional_stream_put_is_resumable_and_obeys_its_precondition()
    {
        var proxy = Proxy();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, Prefix());
        var path = ObjectPath.Parse("wal/00000000000000000001.sst");

        var first = await store.PutAsync(path, new PatternStream(9 << 20, 1), PutMode.CreateIfAbsent);
        var second = await store.PutAsync(path, new PatternStream(9 << 20, 2), PutMode.CreateIfAbsent);
        var replaced = await store.PutAsync(path, new PatternStream(9 << 20, 3), PutMode.IfVersionMatches(first.Version!.Value));
        var stale = await store.PutAsync(path, new PatternStream(9 << 20, 4), PutMode.IfVersionMatches(first.Version!.Value));

        Assert.That(first.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(second.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(replaced.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(stale.Outcome, Is.EqualTo(PutOutcome.VersionMismatch));
        var head = await store.GetAsync(path, ByteRange.FromOffset(0, 16));
        var expected = new byte[16];
        PatternStream.Fill(expected, 0, 3);
        Assert.That(head!.Data.ToArray(), Is.EqualTo(expected));
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task Requests_are_counted_and_put_ids_read_back()
    {
        var proxy = Proxy();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, Prefix());

        await store.PutAsync(ObjectPath.Parse("m"), Encoding.UTF8.GetBytes("manifest"), new PutOptions(PutMode.CreateIfAbsent, "id-1"));
        var head = await store.HeadAsync(ObjectPath.Parse("m"));
        await store.GetAsync(ObjectPath.Parse("m"), ByteRange.FromOffset(2, 3));

        Assert.That(head!.PutId, Is.EqualTo("id-1"));
        var metrics = ObjectStores.MetricsOf(store)!;
        Assert.That(metrics.Requests(RequestKind.Put), Is.EqualTo(1));
        Assert.That(metrics.Requests(RequestKind.Get), Is.EqualTo(1));
        Assert.That(metrics.BytesUp, Is.EqualTo(8));
        Assert.That(metrics.BytesDown, Is.EqualTo(3));
        await CloudStores.EmptyAsync(store);
    }
}
