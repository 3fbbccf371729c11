using System.IO.Pipelines;
using SlateSharp.Manifest;
using SlateSharp.Storage;

namespace SlateSharp.Sst;

/// <summary>
/// Builds one SST and uploads it while it is being built: a pipe between the builder and a streamed put keeps memory
/// bounded (the writer pauses at 4 MiB in flight), so an SST of hundreds of MiB never sits in memory whole. Used by the
/// memtable flusher and the compactor.
/// </summary>
internal static class SstUpload
{
    private const int PipePauseBytes = 4 << 20;
    private const int PipeSegmentBytes = 64 << 10;

    /// <summary>
    /// Streams the SST that <paramref name="fill"/> builds (it adds rows, and flushes the builder when
    /// <see cref="SstBuilder.Add"/> asks) to <c>compacted/{id}.sst</c>. <paramref name="beforePut"/> runs right before
    /// the put starts and may throw to send nothing (a holder that has learned it is fenced uploads nothing more).
    /// On failure, whatever part of the object was stored is referenced by nothing: the caller deletes it or leaves it
    /// to the garbage collector.
    /// </summary>
    public static async ValueTask<SstHandle> WriteAsync(
        IObjectStore store, SstId id, SstBuilderOptions options, Func<SstBuilder, CancellationToken, ValueTask> fill, Action beforePut, CancellationToken cancellationToken)
    {
        var path = SstPaths.PathOf(id);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: PipePauseBytes, resumeWriterThreshold: PipePauseBytes / 2, minimumSegmentSize: PipeSegmentBytes, useSynchronizationContext: false));
        var upload = UploadAsync(store, pipe.Reader, path, beforePut, cancellationToken);
        SstInfo info;
        try
        {
            var output = pipe.Writer.AsStream();
            await using (output.ConfigureAwait(false))
            {
                using var builder = new SstBuilder(options, output);
                await fill(builder, cancellationToken).ConfigureAwait(false);
                info = await builder.FinishAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
            await ObserveAsync(upload).ConfigureAwait(false);
            throw;
        }

        var put = await upload.ConfigureAwait(false);
        if (!put.Stored)
        {
            throw Errors.Internal($"an sst upload with overwrite answered {put.Outcome} (path={path})");
        }

        return new SstHandle(id, info.SizeBytes, info.FirstKey, info.LastKey, info.EntryCount);
    }

    private static async Task<PutResult> UploadAsync(IObjectStore store, PipeReader reader, ObjectPath path, Action beforePut, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var input = reader.AsStream();
        await using (input.ConfigureAwait(false))
        {
            beforePut();
            return await store.PutAsync(path, input, PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async ValueTask ObserveAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The builder's error is the one reported.
        }
    }
}
