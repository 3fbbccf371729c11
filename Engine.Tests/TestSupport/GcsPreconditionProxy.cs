using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A TEST SERVER, not a GCS implementation: an HTTP proxy on 127.0.0.1 in front of the firebase-tools Cloud Storage
/// emulator that adds the GCS behaviour the emulator lacks, so the GCS store can be tested against the emulator's real
/// JSON API wire format AND real compare-and-swap semantics:
/// <list type="bullet">
/// <item>Generation preconditions. The emulator ignores <c>ifGenerationMatch</c>; the proxy serialises every write to
/// one object name, reads the current generation from the emulator, answers 412 when it does not match, and only then
/// forwards the write. The emulator's generations are millisecond timestamps, so writes to one name are kept at least
/// 2 ms apart to give each a new generation.</item>
/// <item>Chunked resumable uploads. The emulator creates the object at the first chunk; the proxy keeps the session
/// itself (chunks in a temp file, <c>308</c> with <c>Range</c>, status queries), checks the precondition when the session
/// starts (an early 412, as GCS may answer) and again when the last chunk arrives (where GCS enforces it), and then uploads the whole object to the emulator in one multipart
/// request. A finished session keeps answering status queries with its outcome, as GCS does, so a client that lost
/// the answer to its last chunk learns it by asking.</item>
/// <item>Optionally, bucket existence (404 for unknown buckets, where the emulator lists nothing) and a required bearer
/// token (401 otherwise), for the error tests; and fault injection (failed chunks, lost answers, 409s).</item>
/// <item>A count of the HTTP requests that reach it, by kind (<see cref="Requests"/>): what the client sent, before
/// the proxy's own requests to the emulator.</item>
/// </list>
/// The bench runs it as a process of its own: <c>dotnet SlateSharp.Tests.dll gcs-proxy UPSTREAM [PORT]</c>
/// (<see cref="GcsProxyProcess"/>).
/// Only the requests the store makes are understood: every upload is resumable (Google.Cloud.Storage.V1 sends no
/// other kind); the object name comes from the session's metadata document (gzip-compressed, as the library sends it)
/// or the <c>name</c> query parameter.
/// </summary>
public sealed class GcsPreconditionProxy : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream = new() { Timeout = TimeSpan.FromMinutes(2) };
    private readonly string _upstreamBase;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _lastWrite = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _uploadsStarted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _requests = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private int _failChunkRequests;
    private int _dropFinalAnswers;
    private readonly string _spoolDirectory = Path.Combine(Path.GetTempPath(), "slatesharp-gcs-proxy-" + Guid.NewGuid().ToString("N"));

    /// <param name="upstream">The emulator.</param>
    /// <param name="knownBuckets">When set, other buckets answer 404.</param>
    /// <param name="requiredToken">When set, requests without this bearer token answer 401.</param>
    /// <param name="port">The port on 127.0.0.1 to listen on; 0 for a free one.</param>
    public GcsPreconditionProxy(Uri upstream, IReadOnlySet<string>? knownBuckets = null, string? requiredToken = null, int port = 0)
    {
        _upstreamBase = upstream.ToString().TrimEnd('/');
        KnownBuckets = knownBuckets;
        RequiredToken = requiredToken;
        Directory.CreateDirectory(_spoolDirectory);
        port = port == 0 ? FreePort() : port;
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _ = Task.Run(AcceptLoopAsync);
    }

    public Uri Endpoint { get; }

    public IReadOnlySet<string>? KnownBuckets { get; }

    public string? RequiredToken { get; }

    /// <summary>Fails the next <paramref name="count"/> resumable-upload chunk requests with 503 (fault injection).</summary>
    public void FailNextChunkRequests(int count) => Volatile.Write(ref _failChunkRequests, count);

    /// <summary>
    /// Lets the next <paramref name="count"/> uploads finish (the object is created) but answers their last chunk with
    /// 503, as a server that fails after committing does: the client cannot tell from the answer whether the object
    /// exists (fault injection). HttpListener cannot drop a connection without answering (closing it sends the
    /// headers), so this is how the proxy loses an answer.
    /// </summary>
    public void FailAnswersToNextFinalChunks(int count) => Volatile.Write(ref _dropFinalAnswers, count);

    /// <summary>Answers every upload session start for an object whose name contains this with 409 Conflict (fault injection).</summary>
    public string? ConflictOnNamesContaining { get; set; }

    /// <summary>How many bytes the open or finished upload sessions of <paramref name="name"/> have persisted, at most.</summary>
    public long PersistedBytes(string name) =>
        _sessions.Values.Where(s => s.Name == name).Select(s => Volatile.Read(ref s.PersistedField)).DefaultIfEmpty(0).Max();

    /// <summary>
    /// The HTTP requests received so far, by kind: <c>upload start</c> (a resumable session's POST), <c>upload chunk</c>
    /// (a PUT to a session, status queries included), <c>media get</c> (an object's bytes), <c>metadata get</c>,
    /// <c>list</c>, <c>delete</c> and <c>other</c>. GCS bills a completed resumable upload as one class A operation,
    /// however many requests it took.
    /// </summary>
    public IReadOnlyDictionary<string, long> Requests => new Dictionary<string, long>(_requests, StringComparer.Ordinal);

    /// <summary>How many uploads of <paramref name="name"/> asked for a session (including those refused with 412).</summary>
    public int UploadsStarted(string name) => _uploadsStarted.TryGetValue(name, out var count) ? count : 0;

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _upstream.Dispose();
        try
        {
            Directory.Delete(_spoolDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            var path = request.Url!.AbsolutePath;
            var query = System.Web.HttpUtility.ParseQueryString(request.Url.Query);
            _requests.AddOrUpdate(KindOf(request.HttpMethod, path, query), 1, (_, n) => n + 1);
            if (RequiredToken is not null && request.Headers["Authorization"] != "Bearer " + RequiredToken)
            {
                await ErrorAsync(response, 401, "Invalid Credentials");
                return;
            }

            if (KnownBuckets is not null && BucketOf(path) is { } bucket && !KnownBuckets.Contains(bucket))
            {
                await ErrorAsync(response, 404, "The specified bucket does not exist.");
                return;
            }

            var isUpload = path.StartsWith("/upload/storage/v1/b/", StringComparison.Ordinal);
            if (isUpload && query["upload_id"] is { } sessionId)
            {
                await ChunkAsync(request, response, sessionId);
            }
            else if (isUpload && request.HttpMethod == "POST" && query["uploadType"] == "resumable")
            {
                await StartSessionAsync(request, response, BucketOf(path)!, query);
            }
            else if (isUpload)
            {
                await ErrorAsync(response, 501, "the test proxy understands resumable uploads only");
            }
            else if (request.HttpMethod == "DELETE" && ObjectNameOf(path) is { } name)
            {
                await WriteAsync(BucketOf(path)!, name, null, response, () => ForwardAsync(request, response));
            }
            else
            {
                await ForwardAsync(request, response);
            }
        }
        catch (Exception e)
        {
            try
            {
                await ErrorAsync(response, 500, "proxy failure: " + e.Message);
            }
            catch (Exception)
            {
                // The client went away.
            }
        }
        finally
        {
            response.Close();
        }
    }

    /// <summary>
    /// The kind of a request, for <see cref="Requests"/>. The JSON API is under <c>/storage/v1/</c> of an endpoint given
    /// in the options, and at the root of one the library takes from <c>STORAGE_EMULATOR_HOST</c>.
    /// </summary>
    private static string KindOf(string method, string path, System.Collections.Specialized.NameValueCollection query)
    {
        if (path.StartsWith("/upload/storage/v1/b/", StringComparison.Ordinal))
        {
            return query["upload_id"] is null ? "upload start" : "upload chunk";
        }

        var media = path.StartsWith("/download/", StringComparison.Ordinal) || query["alt"] == "media";
        var api = path.StartsWith("/download/", StringComparison.Ordinal) ? path["/download".Length..] : path;
        api = api.StartsWith("/storage/v1/", StringComparison.Ordinal) ? api["/storage/v1".Length..] : api;
        if (!api.StartsWith("/b/", StringComparison.Ordinal))
        {
            return "other";
        }

        var named = ObjectNameOf(api) is not null;
        return (method, named) switch
        {
            ("DELETE", true) => "delete",
            ("GET", true) => media ? "media get" : "metadata get",
            ("GET", false) when api.EndsWith("/o", StringComparison.Ordinal) => "list",
            _ => "other",
        };
    }

    private static string? BucketOf(string path)
    {
        var at = path.IndexOf("/b/", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var rest = path[(at + 3)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return Uri.UnescapeDataString(slash < 0 ? rest : rest[..slash]);
    }

    private static string? ObjectNameOf(string path)
    {
        var at = path.IndexOf("/o/", StringComparison.Ordinal);
        return at < 0 ? null : Uri.UnescapeDataString(path[(at + 3)..]);
    }

    /// <summary>Runs a write to one object under its lock, after checking <paramref name="ifGenerationMatch"/>.</summary>
    private async Task WriteAsync(string bucket, string name, string? ifGenerationMatch, HttpListenerResponse response, Func<Task> write)
    {
        var key = bucket + "/" + name;
        var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1));
        await gate.WaitAsync();
        try
        {
            if (ifGenerationMatch is not null && await CurrentGenerationAsync(bucket, name) != ifGenerationMatch)
            {
                await ErrorAsync(response, 412, "At least one of the pre-conditions you specified did not hold.");
                return;
            }

            while (_lastWrite.TryGetValue(key, out var last) && Environment.TickCount64 - last < 2)
            {
                await Task.Delay(1);
            }

            await write();
            _lastWrite[key] = Environment.TickCount64;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<string> CurrentGenerationAsync(string bucket, string name)
    {
        using var answer = await _upstream.GetAsync($"{_upstreamBase}/storage/v1/b/{Uri.EscapeDataString(bucket)}/o/{Uri.EscapeDataString(name)}");
        if (answer.StatusCode == HttpStatusCode.NotFound)
        {
            return "0";
        }

        answer.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("generation").GetString()!;
    }

    private async Task StartSessionAsync(HttpListenerRequest request, HttpListenerResponse response, string bucket, System.Collections.Specialized.NameValueCollection query)
    {
        var body = request.Headers["Content-Encoding"] == "gzip" ? new GZipStream(request.InputStream, CompressionMode.Decompress) : request.InputStream;
        using var reader = new StreamReader(body, Encoding.UTF8);
        var metadata = await reader.ReadToEndAsync();
        var name = query["name"] ?? NameIn(metadata);
        if (name is null)
        {
            await ErrorAsync(response, 400, "no object name in the query or the metadata");
            return;
        }

        _uploadsStarted.AddOrUpdate(name, 1, (_, count) => count + 1);
        if (ConflictOnNamesContaining is { } conflict && name.Contains(conflict, StringComparison.Ordinal))
        {
            await ErrorAsync(response, 409, "The request conflicts with a concurrent change to the same object.");
            return;
        }

        var precondition = query["ifGenerationMatch"];
        if (precondition is not null && await CurrentGenerationAsync(bucket, name) != precondition)
        {
            await ErrorAsync(response, 412, "At least one of the pre-conditions you specified did not hold.");
            return;
        }

        var id = Guid.NewGuid().ToString("N");
        _sessions[id] = new Session(bucket, name, precondition, metadata, Path.Combine(_spoolDirectory, id));
        response.StatusCode = 200;
        response.AddHeader("Location", $"{Endpoint.ToString().TrimEnd('/')}/upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=resumable&upload_id={id}");
    }

    private static string? NameIn(string metadata)
    {
        if (metadata.Length == 0)
        {
            return null;
        }

        using var document = JsonDocument.Parse(metadata);
        return document.RootElement.TryGetProperty("name", out var name) ? name.GetString() : null;
    }

    private async Task ChunkAsync(HttpListenerRequest request, HttpListenerResponse response, string id)
    {
        if (Interlocked.Decrement(ref _failChunkRequests) >= 0)
        {
            await ErrorAsync(response, 503, "injected failure");
            return;
        }

        if (!_sessions.TryGetValue(id, out var session))
        {
            await ErrorAsync(response, 404, "No such upload session");
            return;
        }

        var (first, total) = ParseContentRange(request.Headers["Content-Range"]);
        await session.Gate.WaitAsync();
        try
        {
            if (session.Done is { } done)
            {
                await RespondAsync(response, done.Status, done.Body);
                return;
            }

            if (first is { } start)
            {
                await using var file = new FileStream(session.SpoolFile, FileMode.OpenOrCreate, FileAccess.Write);
                if (start > session.Persisted)
                {
                    await ErrorAsync(response, 400, $"chunk starts at {start} but {session.Persisted} bytes are persisted");
                    return;
                }

                // Bytes below the persisted offset were already received (a retried chunk): skip them.
                var buffer = new byte[81920];
                file.Position = session.Persisted;
                long position = start;
                int n;
                while ((n = await request.InputStream.ReadAsync(buffer)) > 0)
                {
                    var from = (int)Math.Clamp(session.Persisted - position, 0, n);
                    await file.WriteAsync(buffer.AsMemory(from, n - from));
                    position += n;
                    session.Persisted = Math.Max(session.Persisted, position);
                }
            }

            if (total is { } size && session.Persisted == size)
            {
                var (status, body) = await FinishAsync(session);
                session.Done = (status, body);
                File.Delete(session.SpoolFile);
                if (Interlocked.Decrement(ref _dropFinalAnswers) >= 0)
                {
                    await ErrorAsync(response, 503, "injected failure after the object was created");
                    return;
                }

                await RespondAsync(response, status, body);
                return;
            }

            response.StatusCode = 308;
            if (session.Persisted > 0)
            {
                response.AddHeader("Range", $"bytes=0-{session.Persisted - 1}");
            }
        }
        finally
        {
            session.Gate.Release();
        }
    }

    /// <summary>Creates the object: the precondition is checked now, then the spooled bytes go up in one request.</summary>
    private async Task<(int Status, byte[] Body)> FinishAsync(Session session)
    {
        var sink = new HttpListenerResponseSink();
        await WriteAsyncCore(session, sink);
        return (sink.Status, sink.Body);
    }

    private async Task WriteAsyncCore(Session session, HttpListenerResponseSink sink)
    {
        var key = session.Bucket + "/" + session.Name;
        var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1));
        await gate.WaitAsync();
        try
        {
            if (session.Precondition is not null && await CurrentGenerationAsync(session.Bucket, session.Name) != session.Precondition)
            {
                sink.Status = 412;
                sink.Body = Encoding.UTF8.GetBytes("{\"error\":{\"code\":412,\"message\":\"At least one of the pre-conditions you specified did not hold.\"}}");
                return;
            }

            while (_lastWrite.TryGetValue(key, out var last) && Environment.TickCount64 - last < 2)
            {
                await Task.Delay(1);
            }

            if (!File.Exists(session.SpoolFile))
            {
                await File.WriteAllBytesAsync(session.SpoolFile, []);
            }

            await using var file = File.OpenRead(session.SpoolFile);
            using var content = new MultipartContent("related");
            content.Add(new StringContent(session.Metadata, Encoding.UTF8, "application/json"));
            var media = new StreamContent(file);
            media.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            content.Add(media);
            var url = $"{_upstreamBase}/upload/storage/v1/b/{Uri.EscapeDataString(session.Bucket)}/o?uploadType=multipart&name={Uri.EscapeDataString(session.Name)}";
            using var answer = await _upstream.PostAsync(url, content);
            sink.Status = (int)answer.StatusCode;
            sink.Body = await answer.Content.ReadAsByteArrayAsync();
            _lastWrite[key] = Environment.TickCount64;
        }
        finally
        {
            gate.Release();
        }
    }

    private static (long? First, long? Total) ParseContentRange(string? header)
    {
        // "bytes a-b/total", "bytes a-b/*", "bytes */total" or "bytes */*".
        var text = (header ?? "bytes */*")["bytes ".Length..];
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var range = text[..slash];
        var totalText = text[(slash + 1)..];
        long? total = totalText == "*" ? null : long.Parse(totalText, CultureInfo.InvariantCulture);
        if (range == "*")
        {
            return (null, total);
        }

        var dash = range.IndexOf('-', StringComparison.Ordinal);
        return (long.Parse(range[..dash], CultureInfo.InvariantCulture), total);
    }

    private async Task ForwardAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.HttpMethod), _upstreamBase + request.Url!.PathAndQuery);
        if (request.HasEntityBody)
        {
            var body = new StreamContent(request.InputStream);
            if (request.ContentType is { } type)
            {
                body.Headers.TryAddWithoutValidation("Content-Type", type);
            }

            if (request.ContentLength64 >= 0)
            {
                body.Headers.ContentLength = request.ContentLength64;
            }

            message.Content = body;
        }

        if (request.Headers["Range"] is { } range)
        {
            message.Headers.TryAddWithoutValidation("Range", range);
        }

        using var answer = await _upstream.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode = (int)answer.StatusCode;
        foreach (var header in answer.Headers.Concat(answer.Content.Headers))
        {
            if (header.Key is "Transfer-Encoding" or "Content-Length" or "Connection" or "Keep-Alive" or "Content-Type")
            {
                continue;
            }

            response.AddHeader(header.Key, string.Join(",", header.Value));
        }

        if (answer.Content.Headers.ContentType is { } contentType)
        {
            response.ContentType = contentType.ToString();
        }

        if (answer.Content.Headers.ContentLength is { } length)
        {
            response.ContentLength64 = length;
        }

        await using var stream = await answer.Content.ReadAsStreamAsync();
        await stream.CopyToAsync(response.OutputStream);
    }

    private static Task ErrorAsync(HttpListenerResponse response, int status, string message) =>
        RespondAsync(response, status, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { error = new { code = status, message } })));

    private static async Task RespondAsync(HttpListenerResponse response, int status, byte[] body)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
    }

    private sealed class HttpListenerResponseSink
    {
        public int Status { get; set; }

        public byte[] Body { get; set; } = [];
    }

    private sealed class Session(string bucket, string name, string? precondition, string metadata, string spoolFile)
    {
        public string Bucket => bucket;

        public string Name => name;

        public string? Precondition => precondition;

        public string Metadata => metadata;

        public string SpoolFile => spoolFile;

        public SemaphoreSlim Gate { get; } = new(1);

        public long PersistedField;

        public long Persisted
        {
            get => Volatile.Read(ref PersistedField);
            set => Volatile.Write(ref PersistedField, value);
        }

        public (int Status, byte[] Body)? Done { get; set; }
    }
}
