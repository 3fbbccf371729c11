using System.Buffers;
using System.Net;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using SlateSharp.Common;

namespace SlateSharp.Storage.S3;

/// <summary>Puts: single conditional PUTs, streamed multipart overwrites, and the conditional-write probe.</summary>
internal sealed partial class S3ObjectStore
{
    public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        return await PutSingleAsync(_keys.Key(path), content, options, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly(path);
        var key = _keys.Key(path);
        if (options.Mode.IsConditional)
        {
            var buffered = await BufferConditionalAsync(content, key, cancellationToken).ConfigureAwait(false);
            return await PutSingleAsync(key, buffered, options, cancellationToken).ConfigureAwait(false);
        }

        return await PutStreamedAsync(key, content, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One PUT, conditional as <paramref name="options"/> says.</summary>
    private async ValueTask<PutResult> PutSingleAsync(string key, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _keys.Bucket,
            Key = key,
            InputStream = AsStream(content),
            AutoCloseStream = true,
            ContentType = "application/octet-stream",
        };
        switch (options.Mode.Kind)
        {
            case PutModeKind.CreateIfAbsent:
                request.IfNoneMatch = "*";
                break;
            case PutModeKind.IfVersionMatches:
                // Unquoted: some servers (Ceph RGW) compare the raw header with the bare ETag.
                request.IfMatch = options.Mode.ExpectedVersion!.Value.Token;
                break;
        }

        if (options.PutId is not null)
        {
            request.Metadata[PutIdMetadata] = options.PutId;
        }

        try
        {
            var response = await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return PutResult.StoredAs(Version(response.ETag));
        }
        catch (AmazonS3Exception e) when (options.Mode.IsConditional && IsConditionFailure(e, options.Mode.Kind))
        {
            return options.Mode.Kind == PutModeKind.CreateIfAbsent ? PutResult.AlreadyExists : PutResult.VersionMismatch;
        }
        catch (Exception e) when (Map(e, "s3 put", key, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>
    /// 412 is the lost condition; AWS answers If-Match on a missing key with 404 NoSuchKey. Not 409
    /// ConditionalRequestConflict: AWS sends it to one of two conditional writes racing on a key ("a concurrent
    /// operation is in progress, retry") without saying whether an object exists, so it is a transient failure
    /// (see <see cref="Map"/>), never "already exists".
    /// </summary>
    private static bool IsConditionFailure(AmazonS3Exception e, PutModeKind kind) =>
        e.StatusCode == HttpStatusCode.PreconditionFailed
        || (kind == PutModeKind.IfVersionMatches && e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode == "NoSuchKey");

    private async ValueTask<ReadOnlyMemory<byte>> BufferConditionalAsync(Stream content, string key, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int n;
            while ((n = await content.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > _options.MaxConditionalStreamBytes)
                {
                    throw Errors.Invalid(
                        $"a conditional put from a stream is limited to {_options.MaxConditionalStreamBytes} bytes (one PUT, buffered); raise S3StoreOptions.MaxConditionalStreamBytes (key={key})");
                }

                buffer.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>
    /// An overwrite from a stream: one PUT when it fits in one part, else a multipart upload with at most
    /// <see cref="S3StoreOptions.MaxConcurrentParts"/> part buffers (pooled) alive at once. A failed upload is aborted.
    /// </summary>
    private async ValueTask<PutResult> PutStreamedAsync(string key, Stream content, PutOptions options, CancellationToken cancellationToken)
    {
        var partSize = _options.MultipartPartSize;
        using var slots = new SemaphoreSlim(_options.MaxConcurrentParts);
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var first = RentPartBuffer();
        string? uploadId = null;
        var parts = new List<Task<PartETag>>();
        try
        {
            var length = await content.ReadAtLeastAsync(first.AsMemory(0, partSize), partSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (length < partSize)
            {
                return await PutSingleAsync(key, first.AsMemory(0, length), options, cancellationToken).ConfigureAwait(false);
            }

            uploadId = await StartMultipartAsync(key, options, cancellationToken).ConfigureAwait(false);
            var buffer = first;
            first = null;
            for (var partNumber = 1; ; partNumber++)
            {
                parts.Add(UploadPartAsync(key, uploadId, partNumber, buffer, length, slots, cancellationToken));
                if (length < partSize || parts.Any(p => p.IsFaulted || p.IsCanceled))
                {
                    break;
                }

                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                buffer = RentPartBuffer();
                try
                {
                    length = await content.ReadAtLeastAsync(buffer.AsMemory(0, partSize), partSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    Release(buffer, slots);
                    throw;
                }

                if (length == 0)
                {
                    Release(buffer, slots);
                    break;
                }
            }

            var etags = await Task.WhenAll(parts).ConfigureAwait(false);
            var response = await _retrier.RunAsync("s3 complete multipart upload", async (_, ct) =>
            {
                try
                {
                    return await _client.CompleteMultipartUploadAsync(
                        new CompleteMultipartUploadRequest { BucketName = _keys.Bucket, Key = key, UploadId = uploadId, PartETags = [.. etags] }, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (Map(e, "s3 complete multipart upload", key, ct) is { } mapped)
                {
                    throw mapped;
                }
            }, cancellationToken).ConfigureAwait(false);
            uploadId = null;
            if (string.IsNullOrEmpty(response.ETag))
            {
                // Some servers (Ceph RGW) leave the ETag out of the completion answer: read it back.
                var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _keys.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
                return PutResult.StoredAs(Version(head.ETag));
            }

            return PutResult.StoredAs(Version(response.ETag));
        }
        finally
        {
            if (first is not null)
            {
                Release(first, slots);
            }

            if (uploadId is not null)
            {
                await AbortMultipartAsync(key, uploadId, parts).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask<string> StartMultipartAsync(string key, PutOptions options, CancellationToken cancellationToken) =>
        await _retrier.RunAsync("s3 start multipart upload", async (_, ct) =>
        {
            var request = new InitiateMultipartUploadRequest { BucketName = _keys.Bucket, Key = key, ContentType = "application/octet-stream" };
            if (options.PutId is not null)
            {
                request.Metadata[PutIdMetadata] = options.PutId;
            }

            try
            {
                return (await _client.InitiateMultipartUploadAsync(request, ct).ConfigureAwait(false)).UploadId;
            }
            catch (Exception e) when (Map(e, "s3 start multipart upload", key, ct) is { } mapped)
            {
                throw mapped;
            }
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>Uploads one part (retried on its own), then returns its buffer to the pool and frees its slot.</summary>
    private async Task<PartETag> UploadPartAsync(string key, string uploadId, int partNumber, byte[] buffer, int length, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Yield();
            return await _retrier.RunAsync($"s3 upload part {partNumber}", async (_, ct) =>
            {
                try
                {
                    var response = await _client.UploadPartAsync(
                        new UploadPartRequest
                        {
                            BucketName = _keys.Bucket,
                            Key = key,
                            UploadId = uploadId,
                            PartNumber = partNumber,
                            InputStream = new MemoryStream(buffer, 0, length, writable: false),
                            PartSize = length,
                        }, ct).ConfigureAwait(false);
                    return new PartETag(partNumber, response.ETag);
                }
                catch (Exception e) when (Map(e, $"s3 upload part {partNumber}", key, ct) is { } mapped)
                {
                    throw mapped;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Release(buffer, slots);
        }
    }

    private async ValueTask AbortMultipartAsync(string key, string uploadId, List<Task<PartETag>> parts)
    {
        try
        {
            await Task.WhenAll(parts).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The failure that matters is already propagating; this only waits for the parts still running.
        }

        try
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _keys.Bucket, Key = key, UploadId = uploadId }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException or OperationCanceledException)
        {
            // Best effort: a bucket lifecycle rule for incomplete multipart uploads removes what is left (docs/storage.md).
        }
    }

    /// <summary>
    /// Part buffers come from the store's own pool, which keeps at most <see cref="S3StoreOptions.MaxConcurrentParts"/>
    /// idle buffers: one upload allocates its buffers once, later uploads reuse them, and idle memory stays bounded.
    /// </summary>
    private byte[] RentPartBuffer() => _partBuffers.TryTake(out var buffer) ? buffer : new byte[_options.MultipartPartSize];

    private void Release(byte[] buffer, SemaphoreSlim slots)
    {
        if (_partBuffers.Count < _options.MaxConcurrentParts)
        {
            _partBuffers.Add(buffer);
        }

        slots.Release();
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    private ValueTask ProbeConditionalWritesAsync(RandomSource random, CancellationToken cancellationToken)
    {
        var key = _keys.ProbeKey(random.NextId());
        var body = "slatesharp conditional-write probe"u8.ToArray();
        return ConditionalWriteProbe.RunAsync(
            "the s3 server does not enforce conditional writes", "PUT with If-None-Match: *", "a PUT with If-Match",
            new ObjectVersion("00000000000000000000000000000000"), _retrier, (mode, ct) => PutSingleAsync(key, body, mode, ct),
            async () =>
            {
                try
                {
                    await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _keys.Bucket, Key = key }, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException or TimeoutException)
                {
                    // Best effort: the probe key is reserved and invisible to the store.
                }
            },
            $"bucket={_keys.Bucket} endpoint={_endpoint} probe={key}", cancellationToken);
    }
}
