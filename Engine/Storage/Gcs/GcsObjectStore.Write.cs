using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Google;
using Google.Apis.Upload;
using Google.Cloud.Storage.V1;
using SlateSharp.Common;
using SlateSharp.Storage.Decorators;
using GcsObject = Google.Apis.Storage.v1.Data.Object;
using GcsRetry = Google.Cloud.Storage.V1.RetryOptions;
using ObjectUpload = Google.Apis.Storage.v1.ObjectsResource.InsertMediaUpload;

namespace SlateSharp.Storage.Gcs;

/// <summary>
/// Puts: resumable uploads through the library (<c>StorageClient.CreateObjectUploader</c>), and the conditional-write probe.
/// </summary>
/// <remarks>
/// Retries: a put whose content <see cref="RetryingObjectStore"/> can replay (bytes in memory, a seekable stream) is
/// not retried here; the decorator runs it again whole, and a retried conditional put recognises its own earlier
/// success by the put id. A put from a stream that cannot be replayed runs once there, so it is retried here: each
/// failed attempt is resumed with the library's <c>ResumeAsync</c>, which asks the session how much it persisted and
/// sends the rest from its chunk buffer (or starts the session again when it was never started). A lost answer to
/// the last chunk is thereby settled by the session itself: the status query answers with the object it created.
/// Either way one <see cref="RetryOptions"/> budget applies to a put.
/// </remarks>
internal sealed partial class GcsObjectStore
{
    public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        using var stream = AsStream(content);
        return await UploadAsync(_keys.Key(path), stream, replayable: true, options, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        return await UploadAsync(_keys.Key(path), content, replayable: content.CanSeek, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Uploads <paramref name="content"/> from its position to its end as a resumable upload with the precondition of
    /// <paramref name="options"/>; memory stays at one chunk buffer whatever the size. A 412 is the lost condition.
    /// </summary>
    private async ValueTask<PutResult> UploadAsync(string key, Stream content, bool replayable, PutOptions options, CancellationToken cancellationToken)
    {
        long? precondition = null;
        switch (options.Mode.Kind)
        {
            case PutModeKind.CreateIfAbsent:
                precondition = 0;
                break;
            case PutModeKind.IfVersionMatches when long.TryParse(options.Mode.ExpectedVersion!.Value.Token, NumberStyles.None, CultureInfo.InvariantCulture, out var generation):
                precondition = generation;
                break;
            case PutModeKind.IfVersionMatches:
                return PutResult.VersionMismatch; // Not a generation: no object on GCS has that version.
        }

        using var deadline = new ChunkDeadline(_options.RequestTimeout, _retrier.Time);
        var source = new GcsUploadSource(content, deadline.Pause, deadline.Resume);
        var destination = new GcsObject
        {
            Bucket = _keys.Bucket,
            Name = key,
            ContentType = "application/octet-stream",
            Metadata = options.PutId is null ? null : new Dictionary<string, string> { [PutIdKey] = options.PutId },
        };
        var upload = _storage.CreateObjectUploader(destination, source, new UploadObjectOptions { ChunkSize = _options.UploadChunkSize, IfGenerationMatch = precondition });
        var started = _retrier.Time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            var error = await AttemptAsync(upload, attempt, deadline, cancellationToken).ConfigureAwait(false);
            SlateSharpException failure;
            if (error is null)
            {
                if (upload.ResponseBody?.Generation is { } stored)
                {
                    return PutResult.StoredAs(Version(stored));
                }

                // Finished, but the answer carried no object: it was cut short. Asking the session again tells.
                failure = Errors.Unavailable($"gcs upload: the server finished the upload without answering with the object, outcome unknown ({Details(key)})");
            }
            else
            {
                source.Failure?.Throw(); // The caller's stream failed, not the upload.
                cancellationToken.ThrowIfCancellationRequested();
                failure = Classify(error, key, options, source.Started, out var conditionFailed);
                if (conditionFailed)
                {
                    return options.Mode.Kind == PutModeKind.CreateIfAbsent ? PutResult.AlreadyExists : PutResult.VersionMismatch;
                }
            }

            if (replayable || failure.Kind != ErrorKind.Unavailable || (error is not null && IsSessionLost(error)))
            {
                throw failure;
            }

            if (!await _retrier.WaitBeforeRetryAsync("gcs upload", failure, attempt, started, cancellationToken).ConfigureAwait(false))
            {
                throw _retrier.GiveUp(failure, attempt, started);
            }
        }
    }

    /// <summary>Runs the first attempt (or resumes after a failed one) under a fresh chunk deadline; returns what failed, or null when done.</summary>
    private static async ValueTask<Exception?> AttemptAsync(ObjectUpload upload, int attempt, ChunkDeadline deadline, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Start());
        try
        {
            var progress = attempt == 1
                ? await upload.UploadAsync(linked.Token).ConfigureAwait(false)
                : await upload.ResumeAsync(linked.Token).ConfigureAwait(false);
            return progress.Status == UploadStatus.Completed
                ? null
                : progress.Exception ?? new IOException($"the upload stopped in state {progress.Status}");
        }
        catch (Exception e) when (e is not SlateSharpException)
        {
            return e; // The library rethrows cancellations (the caller's, or the chunk deadline's) instead of reporting them.
        }
        finally
        {
            deadline.End();
        }
    }

    /// <summary>
    /// The engine error for a failed upload attempt. A 412 sets <paramref name="conditionFailed"/>. A 404 before
    /// anything was read means the session could not be started: the bucket does not exist. A 404 or 410 after that
    /// means the session is gone (expired, or lost by the server): what it stored is unknown.
    /// </summary>
    private SlateSharpException Classify(Exception error, string key, PutOptions options, bool started, out bool conditionFailed)
    {
        conditionFailed = error is GoogleApiException { HttpStatusCode: HttpStatusCode.PreconditionFailed };
        if (IsSessionLost(error) && started)
        {
            return Errors.Unavailable($"gcs upload: the upload session is gone, outcome unknown ({Details(key)} status={(int)((GoogleApiException)error).HttpStatusCode} mode={options.Mode})", error);
        }

        return Map(error, "gcs upload", key, CancellationToken.None, bucketLevel: !started)
            ?? Errors.Internal($"gcs upload: unexpected failure: {error.Message} ({Details(key)})", error);
    }

    private static bool IsSessionLost(Exception error) =>
        error is GoogleApiException { HttpStatusCode: HttpStatusCode.NotFound or HttpStatusCode.Gone };

    private static MemoryStream AsStream(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    private ValueTask ProbeConditionalWritesAsync(RandomSource random, CancellationToken cancellationToken)
    {
        var key = _keys.ProbeKey(random.NextId());
        var body = "slatesharp conditional-write probe"u8.ToArray();
        return ConditionalWriteProbe.RunAsync(
            "the gcs server does not enforce generation preconditions", "upload with ifGenerationMatch=0", "an upload with ifGenerationMatch",
            new ObjectVersion("1"), _retrier, async (mode, ct) =>
            {
                using var stream = AsStream(body);
                return await UploadAsync(key, stream, replayable: true, mode, ct).ConfigureAwait(false);
            },
            async () =>
            {
                try
                {
                    await CallAsync("gcs probe cleanup", key, async ct =>
                    {
                        await _storage.DeleteObjectAsync(_keys.Bucket, key, new DeleteObjectOptions { RetryOptions = GcsRetry.Never }, ct).ConfigureAwait(false);
                        return true;
                    }, CancellationToken.None).ConfigureAwait(false);
                }
                catch (SlateSharpException)
                {
                    // Best effort: the probe key is reserved and invisible to the store.
                }
            },
            $"bucket={_keys.Bucket} endpoint={_client.Endpoint} probe={key}", cancellationToken);
    }

    /// <summary>
    /// The request timeout of an upload attempt, on the store's clock: it runs while the library talks to the server
    /// and is paused while the library waits for the caller's bytes, so it bounds each request, not the producer.
    /// </summary>
    private sealed class ChunkDeadline(TimeSpan timeout, TimeProvider time) : IDisposable
    {
        private CancellationTokenSource? _current;

        public CancellationToken Start()
        {
            _current = new CancellationTokenSource(timeout, time);
            return _current.Token;
        }

        public void Pause() => _current?.CancelAfter(Timeout.InfiniteTimeSpan);

        public void Resume() => _current?.CancelAfter(timeout);

        public void End()
        {
            var current = _current;
            _current = null;
            current?.Dispose();
        }

        public void Dispose() => End();
    }
}
