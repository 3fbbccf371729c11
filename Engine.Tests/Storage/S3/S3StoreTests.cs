using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.S3;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.S3;

/// <summary>What the conformance suite does not cover: opening, errors, put ids and metrics of <c>s3://</c> stores.</summary>
public sealed class S3StoreTests
{
    private static string Endpoint => TestEnvironment.S3Endpoint ?? Missing();

    private static string Missing()
    {
        TestEnvironment.Missing("the S3 test server (SLATESHARP_TEST_S3_ENDPOINT)");
        return string.Empty;
    }

    private static string Prefix() => $"s3-tests/{TestEnvironment.RunId}/{Guid.NewGuid():N}";

    private static Task<IObjectStore> OpenAsync(string url, S3StoreOptions s3, RetryOptions? retry = null, bool readOnly = false) =>
        ObjectStores.OpenAsync(url, new ObjectStoreOptions { S3 = s3, Retry = retry ?? new RetryOptions(), ReadOnly = readOnly }).AsTask();

    [Test]
    public async Task Put_ids_are_stored_as_object_metadata_and_requests_are_counted()
    {
        var store = await CloudStores.OpenS3Async(Prefix());
        var path = ObjectPath.Parse("manifest/00000000000000000001.manifest");

        await store.PutAsync(path, Encoding.UTF8.GetBytes("m1"), new PutOptions(PutMode.CreateIfAbsent, "put-1234"));
        var head = await store.HeadAsync(path);
        var got = await store.GetAsync(path, ByteRange.Suffix(1));

        Assert.That(head!.PutId, Is.EqualTo("put-1234"));
        Assert.That(got!.Metadata.PutId, Is.EqualTo("put-1234"));
        Assert.That(got.Offset, Is.EqualTo(1));
        var metrics = ObjectStores.MetricsOf(store)!;
        Assert.That(metrics.Requests(RequestKind.Put), Is.EqualTo(1));
        Assert.That(metrics.Requests(RequestKind.Head), Is.EqualTo(1));
        Assert.That(metrics.Requests(RequestKind.Get), Is.EqualTo(1));
        Assert.That(metrics.BytesDown, Is.EqualTo(1));
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task Wrong_credentials_are_an_invalid_access_denied_error()
    {
        var endpoint = Endpoint;
        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync(
            $"s3://{TestEnvironment.S3Bucket}/{Prefix()}", new S3StoreOptions { Endpoint = endpoint, Credentials = new BasicAWSCredentials("test", "wrong-secret") }));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("access denied").And.Contain("SignatureDoesNotMatch").And.Contain(TestEnvironment.S3Bucket));
        await Task.CompletedTask;
    }

    [Test]
    public void A_missing_bucket_is_an_invalid_bucket_not_found_error([Values] bool readOnly)
    {
        _ = Endpoint;
        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync(
            "s3://no-such-bucket-here/db", new S3StoreOptions { Endpoint = Endpoint, Credentials = CloudStores.S3Credentials }, readOnly: readOnly));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("bucket not found").And.Contain("bucket=no-such-bucket-here"));
    }

    [Test]
    public void A_dead_endpoint_is_unavailable_naming_the_endpoint_within_a_bounded_time()
    {
        var endpoint = $"http://127.0.0.1:{TinyHttpServer.ClosedPort()}";
        var clock = Stopwatch.StartNew();

        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync(
            "s3://bucket/db", new S3StoreOptions { Endpoint = endpoint, Credentials = CloudStores.S3Credentials }));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain("cannot reach the endpoint").And.Contain(endpoint).And.Contain("gave up after 6 attempts"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "default retry options bound the time");
    }

    [Test]
    public void A_server_that_never_answers_times_out_as_unavailable()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var endpoint = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        var clock = Stopwatch.StartNew();

        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync(
            "s3://bucket/db",
            new S3StoreOptions { Endpoint = endpoint, Credentials = CloudStores.S3Credentials, RequestTimeout = TimeSpan.FromSeconds(1) },
            new RetryOptions { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(10) }));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain(endpoint));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)));
    }

    [Test]
    public void A_server_that_ignores_if_none_match_is_refused_at_open()
    {
        // Accepts every PUT (as s3rver and fauxqs do): the probe's second create-if-absent "succeeds".
        using var server = new TinyHttpServer(context =>
        {
            context.Response.StatusCode = context.Request.HttpMethod == "DELETE" ? 204 : 200;
            context.Response.AddHeader("ETag", "\"0123456789abcdef0123456789abcdef\"");
            return Task.CompletedTask;
        });

        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync(
            "s3://bucket/db", new S3StoreOptions { Endpoint = server.Endpoint, Credentials = CloudStores.S3Credentials }));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("does not enforce conditional writes").And.Contain("If-None-Match"));
    }

    [Test]
    public async Task A_409_conditional_request_conflict_is_a_transient_failure_never_already_exists()
    {
        // A server that enforces conditions (so the open probe passes) but answers 409 ConditionalRequestConflict, as
        // AWS does to one of two racing conditional writes, for one key.
        var stored = new HashSet<string>();
        using var server = new TinyHttpServer(async context =>
        {
            var key = context.Request.Url!.AbsolutePath;
            if (context.Request.HttpMethod == "DELETE")
            {
                context.Response.StatusCode = 204;
                return;
            }

            if (key.Contains("racing", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 409;
                context.Response.ContentType = "application/xml";
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ConditionalRequestConflict</Code><Message>A conflicting conditional operation is currently in progress against this resource. Please try again.</Message></Error>"));
                return;
            }

            lock (stored)
            {
                var conflict = context.Request.Headers["If-Match"] is not null || (context.Request.Headers["If-None-Match"] is not null && !stored.Add(key));
                context.Response.StatusCode = conflict ? 412 : 200;
            }

            context.Response.AddHeader("ETag", "\"0123456789abcdef0123456789abcdef\"");
        });
        var store = await OpenAsync(
            "s3://bucket/db",
            new S3StoreOptions { Endpoint = server.Endpoint, Credentials = CloudStores.S3Credentials },
            new RetryOptions { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) });

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(ObjectPath.Parse("wal/racing"), Encoding.UTF8.GetBytes("x"), PutMode.CreateIfAbsent));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable), "409 says nothing about whether an object exists");
        Assert.That(error.Message, Does.Contain("ConditionalRequestConflict"));
        await store.DisposeAsync();
    }

    [Test]
    public async Task A_server_that_ignores_the_range_header_still_gives_only_the_range_in_the_callers_buffer()
    {
        // Every GET of the object answers 200 with the whole object, as a server that ignores Range would.
        var content = new byte[1000];
        PatternStream.Fill(content, 0, 13);
        using var server = new TinyHttpServer(async context =>
        {
            context.Response.ContentType = "application/xml";
            if (!context.Request.Url!.AbsolutePath.EndsWith("/obj", StringComparison.Ordinal))
            {
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name><Prefix>db/</Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"));
                return;
            }

            context.Response.ContentType = "application/octet-stream";
            context.Response.AddHeader("ETag", "\"0123456789abcdef0123456789abcdef\"");
            context.Response.ContentLength64 = content.Length;
            await context.Response.OutputStream.WriteAsync(content);
        });
        var store = await OpenAsync("s3://bucket/db", new S3StoreOptions { Endpoint = server.Endpoint, Credentials = CloudStores.S3Credentials }, readOnly: true);
        var path = ObjectPath.Parse("obj");
        var buffer = new byte[130];

        var got = await store.GetAsync(path, ByteRange.FromOffset(10, 20));
        var into = await ReadsInto.GetIntoAsync(store, path, 100, buffer.AsMemory(5, 120));
        var tail = await ReadsInto.GetIntoAsync(store, path, 990, new byte[100]);

        Assert.That(ReadsInto.ReadsInPlace(store), Is.True);
        Assert.That((got!.Offset, got.Metadata.Size), Is.EqualTo((10L, 1000L)));
        Assert.That(got.Data.ToArray(), Is.EqualTo(content[10..30]));
        Assert.That((into!.Offset, into.Data.Length), Is.EqualTo((100L, 120)));
        Assert.That(buffer[5..125], Is.EqualTo(content[100..220]), "the range, not the object's start, lands in the caller's buffer");
        Assert.That((tail!.Offset, tail.Data.ToArray()), Is.EqualTo((990L, content[990..])), "past the end: the bytes there are");
        await store.DisposeAsync();
    }

    [Test]
    public async Task A_conditional_put_from_a_stream_larger_than_the_buffer_limit_is_refused()
    {
        var store = await OpenAsync(
            $"s3://{TestEnvironment.S3Bucket}/{Prefix()}", new S3StoreOptions { Endpoint = Endpoint, Credentials = CloudStores.S3Credentials, MaxConditionalStreamBytes = 1000 });

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await store.PutAsync(ObjectPath.Parse("big"), new PatternStream(5000, 1), PutMode.CreateIfAbsent));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("MaxConditionalStreamBytes"));
        Assert.That(await store.HeadAsync(ObjectPath.Parse("big")), Is.Null);
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task A_read_only_store_reads_but_refuses_writes()
    {
        var prefix = Prefix();
        var writer = await CloudStores.OpenS3Async(prefix);
        await writer.PutAsync(ObjectPath.Parse("x"), Encoding.UTF8.GetBytes("x"), PutMode.Overwrite);
        var reader = await OpenAsync($"s3://{TestEnvironment.S3Bucket}/{prefix}", new S3StoreOptions { Endpoint = Endpoint, Credentials = CloudStores.S3Credentials }, readOnly: true);

        Assert.That((await reader.HeadAsync(ObjectPath.Parse("x")))!.Size, Is.EqualTo(1));
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await reader.PutAsync(ObjectPath.Parse("y"), Encoding.UTF8.GetBytes("y"), PutMode.Overwrite));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("read-only"));
        await CloudStores.EmptyAsync(writer);
    }

    [Test]
    public async Task Multipart_uploads_keep_the_put_id_and_a_small_part_size_splits_the_object()
    {
        var store = await OpenAsync(
            $"s3://{TestEnvironment.S3Bucket}/{Prefix()}",
            new S3StoreOptions { Endpoint = Endpoint, Credentials = CloudStores.S3Credentials, MultipartPartSize = 5 << 20, MaxConcurrentParts = 3 });
        const long Size = (17L << 20) + 3;

        var put = await store.PutAsync(ObjectPath.Parse("sst"), new PatternStream(Size, 5), new PutOptions(PutMode.Overwrite, "multi"));

        var head = await store.HeadAsync(ObjectPath.Parse("sst"));
        Assert.That(head!.Size, Is.EqualTo(Size));
        Assert.That(head.PutId, Is.EqualTo("multi"));
        Assert.That(head.Version, Is.EqualTo(put.Version));
        Assert.That(head.Version.Token, Does.EndWith("-4"), "a multipart ETag names its part count: 17 MiB in 5 MiB parts is 4");
        var tail = await store.GetAsync(ObjectPath.Parse("sst"), ByteRange.Suffix(10));
        var expected = new byte[10];
        PatternStream.Fill(expected, Size - 10, 5);
        Assert.That(tail!.Data.ToArray(), Is.EqualTo(expected));
        await CloudStores.EmptyAsync(store);
    }
}
