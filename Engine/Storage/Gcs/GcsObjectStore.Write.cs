using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using SlateSharp.Common;

namespace SlateSharp.Storage.Gcs;

/// <summary>Uploads: one multipart request for small objects, resumable chunked uploads for large streams, and the probe.</summary>
internal sealed partial class GcsObjectStore
{
    private const int ResumeIncomplete = 308;

    public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        return await UploadInOneRequestAsync(_keys.Key(path), content, options, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        var key = _keys.Key(path);
        var chunkSize = _options.UploadChunkSize;
        var buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            var length = await content.ReadAtLeastAsync(buffer.AsMemory(0, chunkSize), chunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return length < chunkSize
                ? await UploadInOneRequestAsync(key, buffer.AsMemory(0, length), options, cancellationToken).ConfigureAwait(false)
                : await UploadResumableAsync(key, content, buffer, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The precondition query parameter of a put, or null when the expected version cannot exist on GCS.</summary>
    private static string? Precondition(PutOptions options) => options.Mode.Kind switch
    {
        PutModeKind.CreateIfAbsent => "&ifGenerationMatch=0",
        PutModeKind.IfVersionMatches when long.TryParse(options.Mode.ExpectedVersion!.Value.Token, NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            => "&ifGenerationMatch=" + generation.ToString(CultureInfo.InvariantCulture),
        PutModeKind.IfVersionMatches => null,
        _ => string.Empty,
    };

    private static PutResult ConditionFailed(PutOptions options) =>
        options.Mode.Kind == PutModeKind.CreateIfAbsent ? PutResult.AlreadyExists : PutResult.VersionMismatch;

    private string UploadUrl(string key, string type, string precondition) =>
        $"{_endpoint}/upload/storage/v1/{_bucketPath}?uploadType={type}&name={Uri.EscapeDataString(key)}{precondition}";

    /// <summary>A multipart upload: the metadata document (name, put id) and the bytes in one request.</summary>
    private async ValueTask<PutResult> UploadInOneRequestAsync(string key, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken)
    {
        if (Precondition(options) is not { } precondition)
        {
            return PutResult.VersionMismatch;
        }

        var metadata = GcsJson.UploadMetadata(key, options.PutId);
        return await SendAsync("gcs put", key, () =>
        {
            var body = new MultipartContent("related");
            body.Add(new ByteArrayContent(metadata) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "UTF-8" } } });
            body.Add(new ReadOnlyMemoryContent(content) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } });
            return new HttpRequestMessage(HttpMethod.Post, UploadUrl(key, "multipart", precondition)) { Content = body };
        }, async (response, ct) =>
        {
            if (response.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                return ConditionFailed(options);
            }

            await ThrowIfFailedAsync(response, "gcs put", key, ct).ConfigureAwait(false);
            var stored = await GcsJson.ReadObjectAsync(response.Content, key, ct).ConfigureAwait(false);
            return PutResult.StoredAs(new ObjectVersion(stored.Generation));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A resumable upload: start a session (the precondition travels with it and GCS checks it when the object is
    /// created), then send the stream one chunk at a time from <paramref name="buffer"/>, which already holds the first
    /// full chunk. A chunk that fails is retried from the offset the server says it persisted.
    /// </summary>
    private async ValueTask<PutResult> UploadResumableAsync(string key, Stream content, byte[] buffer, PutOptions options, CancellationToken cancellationToken)
    {
        if (Precondition(options) is not { } precondition)
        {
            return PutResult.VersionMismatch;
        }

        var metadata = GcsJson.UploadMetadata(key, options.PutId);
        var session = await _retrier.RunAsync("gcs start resumable upload", (_, ct) => SendAsync("gcs start resumable upload", key, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, UploadUrl(key, "resumable", precondition))
            {
                Content = new ByteArrayContent(metadata) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "UTF-8" } } },
            };
            request.Headers.TryAddWithoutValidation("X-Upload-Content-Type", "application/octet-stream");
            return request;
        }, async (response, ct2) =>
        {
            if (response.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                return null;
            }

            await ThrowIfFailedAsync(response, "gcs start resumable upload", key, ct2).ConfigureAwait(false);
            return response.Headers.Location ?? throw Errors.Data(key, "gcs started a resumable upload without a session url");
        }, ct), cancellationToken).ConfigureAwait(false);
        if (session is null)
        {
            return ConditionFailed(options);
        }

        var chunkSize = _options.UploadChunkSize;
        var offset = 0L;
        var length = chunkSize;
        while (true)
        {
            long? total = length < chunkSize ? offset + length : null;
            var result = await SendChunkAsync(key, session, buffer, length, offset, total, options, cancellationToken).ConfigureAwait(false);
            if (result is { } done)
            {
                return done;
            }

            offset += length;
            length = await content.ReadAtLeastAsync(buffer.AsMemory(0, chunkSize), chunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends <paramref name="length"/> bytes of <paramref name="buffer"/> at object offset <paramref name="offset"/>;
    /// with <paramref name="total"/> known this is the last chunk (possibly empty) and the object is created. Returns
    /// the outcome once the object is created (or the precondition failed), null after an intermediate chunk.
    /// </summary>
    private ValueTask<PutResult?> SendChunkAsync(string key, Uri session, byte[] buffer, int length, long offset, long? total, PutOptions options, CancellationToken cancellationToken) =>
        _retrier.RunAsync("gcs upload chunk", async (attempt, ct) =>
        {
            var from = 0L;
            if (attempt > 1)
            {
                // The last attempt may have landed in part or whole: ask the session how far it got.
                var (persisted, finished) = await ChunkRequestAsync(key, session, buffer, 0, 0, total, options, queryOnly: true, ct).ConfigureAwait(false);
                if (finished is not null)
                {
                    return finished;
                }

                from = persisted - offset;
                if (from < 0 || from > length)
                {
                    throw Errors.Data(key, $"gcs resumable upload lost data the store no longer holds (persisted={persisted} chunk_offset={offset})");
                }
            }

            for (var round = 0; ; round++)
            {
                var (persisted, finished) = await ChunkRequestAsync(key, session, buffer, (int)from, length - (int)from, total, options, queryOnly: false, ct, offset + from).ConfigureAwait(false);
                if (finished is not null || total is null && persisted == offset + length)
                {
                    return finished;
                }

                // The server kept fewer bytes than were sent (it persists in 256 KiB units): send the rest.
                from = persisted - offset;
                if (from < 0 || from > length || round >= 16)
                {
                    throw Errors.Unavailable($"gcs resumable upload made no progress (persisted={persisted} chunk_offset={offset} chunk_length={length} {Details(key)})");
                }
            }
        }, cancellationToken);

    /// <summary>
    /// One PUT to the session: <paramref name="count"/> bytes from <paramref name="start"/> of the buffer at object
    /// offset <paramref name="at"/>, or with <paramref name="queryOnly"/> an empty status query. Returns how many bytes
    /// the server has persisted, or the outcome when the object was created or its precondition failed.
    /// </summary>
    private ValueTask<(long Persisted, PutResult? Finished)> ChunkRequestAsync(
        string key, Uri session, byte[] buffer, int start, int count, long? total, PutOptions options, bool queryOnly, CancellationToken cancellationToken, long at = 0) =>
        SendAsync("gcs upload chunk", key, () =>
        {
            var totalText = total?.ToString(CultureInfo.InvariantCulture) ?? "*";
            var range = queryOnly || count == 0 ? $"bytes */{totalText}" : $"bytes {at}-{at + count - 1}/{totalText}";
            var body = new ByteArrayContent(buffer, start, queryOnly ? 0 : count);
            body.Headers.TryAddWithoutValidation("Content-Range", range);
            return new HttpRequestMessage(HttpMethod.Put, session) { Content = body };
        }, async (response, ct) =>
        {
            var status = (int)response.StatusCode;
            if (status == ResumeIncomplete)
            {
                return (PersistedBytes(response), (PutResult?)null);
            }

            if (response.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                return (0, ConditionFailed(options));
            }

            await ThrowIfFailedAsync(response, "gcs upload chunk", key, ct).ConfigureAwait(false);
            var stored = await GcsJson.ReadObjectAsync(response.Content, key, ct).ConfigureAwait(false);
            return (stored.Size, PutResult.StoredAs(new ObjectVersion(stored.Generation)));
        }, cancellationToken);

    /// <summary>The end of the persisted prefix from a 308's <c>Range: bytes=0-N</c> header (N+1), or 0 without one.</summary>
    private static long PersistedBytes(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("Range", out var values) && values.FirstOrDefault() is { } range)
        {
            var dash = range.LastIndexOf('-');
            if (dash >= 0 && long.TryParse(range.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var last))
            {
                return last + 1;
            }
        }

        return 0;
    }

    private ValueTask ProbeConditionalWritesAsync(RandomSource random, CancellationToken cancellationToken)
    {
        var key = _keys.ProbeKey(random.NextId());
        var body = "slatesharp conditional-write probe"u8.ToArray();
        return ConditionalWriteProbe.RunAsync(
            "the gcs server does not enforce generation preconditions", "upload with ifGenerationMatch=0", "an upload with ifGenerationMatch",
            new ObjectVersion("1"), _retrier, (mode, ct) => UploadInOneRequestAsync(key, body, mode, ct),
            async () =>
            {
                try
                {
                    await SendAsync("gcs probe cleanup", key, () => new HttpRequestMessage(HttpMethod.Delete, ObjectUrl(key)), (_, _) => ValueTask.FromResult(true), CancellationToken.None).ConfigureAwait(false);
                }
                catch (SlateSharpException)
                {
                    // Best effort: the probe key is reserved and invisible to the store.
                }
            },
            $"bucket={_keys.Bucket} endpoint={_endpoint} probe={key}", cancellationToken);
    }
}
