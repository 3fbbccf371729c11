using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Apis.Auth.OAuth2;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.Gcs;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Gcs;

/// <summary>
/// What the conformance suite does not cover: opening (credentials, <c>STORAGE_EMULATOR_HOST</c>), errors and
/// timeouts, resumable uploads (bounded memory, resuming, lost answers, cancellation) and put ids of <c>gs://</c> stores.
/// </summary>
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
    public async Task A_put_is_one_counted_put_of_a_session_start_and_a_chunk_each_and_a_read_is_one_media_get()
    {
        // What the engine's request counts (and the bench's cost lines) mean in HTTP requests on GCS: GCS bills a
        // completed resumable upload as one class A operation, and a ranged read is one media GET (no metadata first).
        var proxy = Proxy();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, Prefix());
        var metrics = ObjectStores.MetricsOf(store)!;
        var opening = proxy.Requests;

        await store.PutAsync(ObjectPath.Parse("wal/00001.sst"), new byte[4096], PutMode.CreateIfAbsent);
        await store.PutAsync(ObjectPath.Parse("compacted/big.sst"), new PatternStream((20L << 20) + 1, 3), PutMode.CreateIfAbsent);
        await store.GetAsync(ObjectPath.Parse("compacted/big.sst"), ByteRange.FromOffset(8 << 20, 4096));
        await store.HeadAsync(ObjectPath.Parse("wal/00001.sst"));
        Assert.That(await store.ListAsync("wal/").CountAsync(), Is.EqualTo(1));

        var sent = proxy.Requests.ToDictionary(r => r.Key, r => r.Value - opening.GetValueOrDefault(r.Key));
        Assert.That(
            (metrics.Requests(RequestKind.Put), metrics.Requests(RequestKind.Get), metrics.Requests(RequestKind.Head), metrics.Requests(RequestKind.List)),
            Is.EqualTo((2L, 1L, 1L, 1L)));
        Assert.That(sent.GetValueOrDefault("upload start"), Is.EqualTo(2), "one session per put");
        Assert.That(sent.GetValueOrDefault("upload chunk"), Is.EqualTo(1 + 3), "4 KiB in one chunk, 20 MiB + 1 in three of 8 MiB");
        Assert.That(sent.GetValueOrDefault("media get"), Is.EqualTo(1));
        Assert.That(sent.GetValueOrDefault("metadata get"), Is.EqualTo(1));
        Assert.That(sent.GetValueOrDefault("list"), Is.EqualTo(1));
        Assert.That(sent.GetValueOrDefault("other"), Is.Zero);
        await CloudStores.EmptyAsync(store);
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
    [Test]
    public async Task A_large_stream_upload_reads_at_most_one_chunk_ahead_of_what_the_server_persisted()
    {
        var proxy = Proxy();
        const int ChunkSize = 1 << 20;
        const long Size = (40L << 20) + 12345;
        var prefix = Prefix();
        var store = await OpenAsync($"gs://{CloudStores.GcsBucket}/{prefix}", new GcsStoreOptions { Endpoint = proxy.Endpoint, Anonymous = true, UploadChunkSize = ChunkSize });
        var key = $"{prefix}/compacted/huge.sst";
        var source = new ReadAheadMeter(new PatternStream(Size, 5), () => proxy.PersistedBytes(key));

        var put = await store.PutAsync(ObjectPath.Parse("compacted/huge.sst"), source, PutMode.CreateIfAbsent);

        Assert.That(put.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(source.BytesRead, Is.EqualTo(Size));
        // The library holds one chunk (plus the byte that tells it whether the stream ended); a store that buffered
        // the object, or let the library read ahead, would be tens of MiB ahead.
        Assert.That(source.MaxAhead, Is.LessThanOrEqualTo(ChunkSize + 1), "bytes read from the stream beyond what the server had persisted");
        var tail = await store.GetAsync(ObjectPath.Parse("compacted/huge.sst"), ByteRange.Suffix(1000));
        var expected = new byte[1000];
        PatternStream.Fill(expected, Size - 1000, 5);
        Assert.That(tail!.Metadata.Size, Is.EqualTo(Size));
        Assert.That(tail.Data.ToArray(), Is.EqualTo(expected));
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task A_failed_answer_to_the_last_chunk_of_a_stream_upload_is_settled_by_asking_the_session()
    {
        var proxy = Proxy();
        var prefix = Prefix();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, prefix);
        var path = ObjectPath.Parse("wal/00000000000000000007.sst");
        proxy.FailAnswersToNextFinalChunks(1);

        var put = await store.PutAsync(path, new PatternStream(3 << 20, 7), new PutOptions(PutMode.CreateIfAbsent, "answer-failed"));

        var head = await store.HeadAsync(path);
        Assert.That(put.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(head!.Version, Is.EqualTo(put.Version));
        Assert.That(head.PutId, Is.EqualTo("answer-failed"));
        Assert.That(proxy.UploadsStarted($"{prefix}/{path}"), Is.EqualTo(1), "the stream cannot be replayed: the same session answered");
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task A_failed_answer_to_a_conditional_put_from_memory_is_recognised_by_its_put_id()
    {
        var proxy = Proxy();
        var prefix = Prefix();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, prefix, retry: new RetryOptions { InitialBackoff = TimeSpan.FromMilliseconds(1) });
        var path = ObjectPath.Parse("manifest/00000000000000000002.manifest");
        proxy.FailAnswersToNextFinalChunks(1);

        var put = await store.PutAsync(path, Encoding.UTF8.GetBytes("manifest two"), PutMode.CreateIfAbsent);

        var head = await store.HeadAsync(path);
        Assert.That(put.Outcome, Is.EqualTo(PutOutcome.Stored), "the retry found the object, and its put id is ours");
        Assert.That(head!.Version, Is.EqualTo(put.Version));
        Assert.That(proxy.UploadsStarted($"{prefix}/{path}"), Is.EqualTo(2), "the retry was a whole new upload, which lost its condition to our own object");
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task A_seekable_stream_is_uploaded_from_its_position()
    {
        var proxy = Proxy();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, Prefix());
        var content = new MemoryStream(Encoding.UTF8.GetBytes("skip-these:keep these"));
        content.Position = "skip-these:".Length;

        await store.PutAsync(ObjectPath.Parse("s"), content, PutMode.Overwrite);

        var got = await store.GetAsync(ObjectPath.Parse("s"), ByteRange.All);
        Assert.That(Encoding.UTF8.GetString(got!.Data.Span), Is.EqualTo("keep these"));
        Assert.That(content.CanRead, Is.True, "the caller's stream is not disposed");
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public async Task Cancelling_an_upload_midway_throws_operation_canceled_and_stores_nothing()
    {
        var proxy = Proxy();
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, Prefix());
        using var cancel = new CancellationTokenSource();
        var source = new ReadAheadMeter(new PatternStream(20 << 20, 9), () => 0, cancelAt: 10 << 20, cancel);

        Assert.CatchAsync<OperationCanceledException>(async () => await store.PutAsync(ObjectPath.Parse("cancelled.sst"), source, PutMode.CreateIfAbsent, cancel.Token));

        Assert.That(source.BytesRead, Is.LessThan(20L << 20), "the upload stopped");
        Assert.That(await store.HeadAsync(ObjectPath.Parse("cancelled.sst")), Is.Null);
        await CloudStores.EmptyAsync(store);
    }

    [Test]
    public void A_server_that_never_answers_times_out_as_unavailable()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}");
        var clock = Stopwatch.StartNew();

        var error = Assert.ThrowsAsync<SlateSharpException>(() => OpenAsync(
            "gs://bucket/db", new GcsStoreOptions { Endpoint = endpoint, Anonymous = true, RequestTimeout = TimeSpan.FromSeconds(1) },
            new RetryOptions { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(10) }));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain("timed out after 1 s").And.Contain(endpoint.ToString().TrimEnd('/')).And.Contain("gave up after 2 attempts"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)));
    }

    [Test]
    public async Task Without_credentials_opening_is_an_invalid_error_that_says_how_to_provide_them()
    {
        using var home = new TestDirectory();

        var (exitCode, output) = await GcsStoreChild.StartAsync(
            ["gs://bucket/db", $"http://127.0.0.1:{TinyHttpServer.ClosedPort()}"], NoCredentials(home.Path));

        Assert.That(exitCode, Is.Zero, output);
        Assert.That(output, Does.StartWith("error Invalid: no google credentials found").And.Contain("GOOGLE_APPLICATION_CREDENTIALS").And.Contain("GcsStoreOptions.Credential"));
    }

    [Test]
    public async Task Storage_emulator_host_is_detected_by_the_library_and_used_anonymously()
    {
        var proxy = Proxy();
        var prefix = Prefix();
        using var home = new TestDirectory();
        var environment = new Dictionary<string, string?>(NoCredentials(home.Path)) { ["STORAGE_EMULATOR_HOST"] = proxy.Endpoint.Authority };

        var (exitCode, output) = await GcsStoreChild.StartAsync([$"gs://{CloudStores.GcsBucket}/{prefix}"], environment);

        Assert.That(exitCode, Is.Zero, output);
        Assert.That(output, Does.Contain("read written by the child"));
        var sent = proxy.Requests;
        Assert.That(sent.GetValueOrDefault("media get"), Is.EqualTo(1), "the API at the endpoint's root is counted by kind too");
        Assert.That(sent.GetValueOrDefault("delete"), Is.EqualTo(1), "the probe's cleanup");
        Assert.That(sent.GetValueOrDefault("other"), Is.Zero);
        var store = await CloudStores.OpenGcsAsync(proxy.Endpoint, prefix);
        var head = await store.HeadAsync(ObjectPath.Parse("child/object"));
        Assert.That(output, Does.Contain($"stored {head!.Version}"), "the child wrote through the proxy, which enforced its precondition probe");
        await CloudStores.EmptyAsync(store);
    }

    /// <summary>
    /// An environment with no Application Default Credentials: no variable, an empty home (no gcloud file), and the
    /// metadata server looked for at a closed loopback port, so the lookup stays on this machine and fails fast.
    /// </summary>
    private static Dictionary<string, string?> NoCredentials(string home) => new()
    {
        ["HOME"] = home,
        ["APPDATA"] = null,
        ["GOOGLE_APPLICATION_CREDENTIALS"] = null,
        ["STORAGE_EMULATOR_HOST"] = null,
        ["GCE_METADATA_HOST"] = $"127.0.0.1:{TinyHttpServer.ClosedPort()}",
    };

    /// <summary>
    /// Passes a stream through, recording how far reads ran ahead of what the server had persisted, and optionally
    /// cancelling a token once <c>cancelAt</c> bytes have been read.
    /// </summary>
    private sealed class ReadAheadMeter(Stream inner, Func<long> persisted, long cancelAt = long.MaxValue, CancellationTokenSource? cancel = null) : Stream
    {
        public long BytesRead { get; private set; }

        public long MaxAhead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            BytesRead += n;
            MaxAhead = Math.Max(MaxAhead, BytesRead - persisted());
            if (BytesRead >= cancelAt)
            {
                cancel?.Cancel();
            }

            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
