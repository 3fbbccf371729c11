namespace SlateSharp.Storage.Caching;

/// <summary>The read path: chunk lookup, single-flight fetch of missing runs, and filling the disk.</summary>
internal sealed partial class DiskCachedObjectStore
{
    /// <summary>
    /// A read of a cacheable object; with <paramref name="destination"/> (a read into the caller's buffer, whose range is
    /// its length from an offset) the bytes go there and the result's data is its first bytes.
    /// </summary>
    private async ValueTask<GetResult?> GetCachedAsync(ObjectPath path, ByteRange range, Memory<byte>? destination, CancellationToken cancellationToken)
    {
        var key = KeyOf(path);
        var objectId = ChunkDirectory.ObjectIdOf(key);
        var info = InfoOf(objectId, key);
        if (info is null)
        {
            return await FetchUnknownAsync(path, key, objectId, range, destination, cancellationToken).ConfigureAwait(false);
        }

        var (start, length) = range.Resolve(info.Size, path);
        if (length == 0)
        {
            return await PassThroughAsync(path, range, destination, cancellationToken).ConfigureAwait(false);
        }

        var first = start / _chunkSize;
        var last = (start + length - 1) / _chunkSize;
        var chunks = new ChunkSlice?[last - first + 1];
        var isScan = length > Math.Max(ScanThresholdBytes, _chunkSize);
        List<long>? missing = null;
        for (var i = first; i <= last; i++)
        {
            if (isScan && !_index.Touch(new ChunkId(objectId, i)))
            {
                // A scan (compaction) reads each block once: serve it from disk only when all of it is there, and
                // otherwise pass it through rather than fill the cache with bytes about to be compacted away.
                _counters.PassedThrough();
                return await PassThroughAsync(path, range, destination, cancellationToken).ConfigureAwait(false);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        for (var i = first; i <= last; i++)
        {
            var chunkStart = i * _chunkSize;
            var from = (int)(Math.Max(start, chunkStart) - chunkStart);
            var to = (int)(Math.Min(start + length, chunkStart + _chunkSize) - chunkStart);
            chunks[i - first] = ReadChunk(new ChunkId(objectId, i), key, info, from, to);
            if (chunks[i - first] is null)
            {
                (missing ??= []).Add(i);
            }
        }

        if (missing is not null && !await FetchAsync(path, key, objectId, info, first, missing, chunks, cancellationToken).ConfigureAwait(false))
        {
            // The object changed, vanished, or a shared fetch failed: let the store answer this read as it would.
            return await PassThroughAsync(path, range, destination, cancellationToken).ConfigureAwait(false);
        }

        var data = destination is { } into ? into[..(int)length] : new byte[length];
        for (var i = first; i <= last; i++)
        {
            var chunkStart = i * _chunkSize;
            var from = Math.Max(start, chunkStart);
            var to = Math.Min(start + length, chunkStart + _chunkSize);
            var slice = chunks[i - first]!.Value;
            slice.Bytes.Span.Slice((int)(from - chunkStart - slice.Start), (int)(to - from)).CopyTo(data.Span[(int)(from - start)..]);
        }

        var metadata = new ObjectMetadata(path, info.Size, new ObjectVersion(info.Version), info.LastModified);
        return new GetResult(metadata, start, data);
    }

    /// <summary>The wrapped store's answer to the read: into <paramref name="destination"/> when there is one.</summary>
    private ValueTask<GetResult?> PassThroughAsync(ObjectPath path, ByteRange range, Memory<byte>? destination, CancellationToken cancellationToken) =>
        destination is { } into
            ? ReadsInto.GetIntoAsync(_inner, path, range.Offset, into, cancellationToken)
            : _inner.GetAsync(path, range, cancellationToken);

    /// <summary><paramref name="result"/> with its data copied to the start of <paramref name="destination"/>, if there is one.</summary>
    private static GetResult Into(GetResult result, Memory<byte>? destination)
    {
        if (destination is not { } into)
        {
            return result;
        }

        result.Data.CopyTo(into);
        return result with { Data = into[..result.Data.Length] };
    }

    /// <summary>The object's size and version: from the index, or (after a restart) from the header of one of its chunk files.</summary>
    private CachedObjectInfo? InfoOf(string objectId, string key)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (_index.InfoOf(objectId) is { } known)
            {
                return known;
            }

            if (_index.AnyChunkOf(objectId) is not { } index)
            {
                return null;
            }

            var id = new ChunkId(objectId, index);
            if (ReadHeader(id) is { } read
                && read.Header.Key == key && read.Header.Offset == index * _chunkSize
                && read.DataLength == ExpectedLength(index, read.Header.ObjectSize) && read.FileLength == (long)read.DataStart + read.DataLength)
            {
                var info = new CachedObjectInfo(read.Header.ObjectSize, read.Header.Version, read.Header.LastModified);
                _index.SetInfo(objectId, info);
                return info;
            }

            Discard(id);
        }

        return null;
    }

    /// <summary>
    /// The pages of a chunk that hold its bytes [<paramref name="from"/>, <paramref name="to"/>), read and checked
    /// with the file's header, or null (a miss) when it is not indexed, missing, torn or not the chunk asked for. A
    /// hit reads the header and those pages, not the whole file.
    /// </summary>
    private ChunkSlice? ReadChunk(ChunkId id, string key, CachedObjectInfo info, int from, int to)
    {
        if (!_index.Touch(id))
        {
            return null;
        }

        var length = ExpectedLength(id.Index, info.Size);
        var dataStart = ChunkFile.DataStart(key, info.Version, length);
        var firstPage = from / ChunkFile.PageSize;
        var pagesStart = firstPage * ChunkFile.PageSize;
        var pagesEnd = Math.Min(length, ((to - 1) / ChunkFile.PageSize + 1) * ChunkFile.PageSize);
        ChunkPages? read;
        try
        {
            read = _directory!.ReadPages(id, (long)dataStart + length, dataStart, (long)dataStart + pagesStart, pagesEnd - pagesStart);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DiskFailed(e, "read", id.ObjectId);
            _index.Remove(id);
            return null;
        }

        if (read is null)
        {
            _index.Remove(id);
            return null;
        }

        if (!read.Complete
            || ChunkFile.TryDecodeHeader(read.Head, out var headerDataStart, out var headerDataLength) is not { } header
            || headerDataStart != dataStart || headerDataLength != length
            || header.Key != key || header.Offset != id.Index * _chunkSize || header.ObjectSize != info.Size || header.Version != info.Version
            || !ChunkFile.TryVerifyPages(read.Head, firstPage, read.Pages))
        {
            Discard(id);
            return null;
        }

        _counters.Hit(read.Pages.Length);
        return new ChunkSlice(read.Pages, pagesStart);
    }

    /// <summary>
    /// Reads and checks a chunk file's header (its pages are checked when read); null when there is no file, when it
    /// cannot be read (counted as a disk error) or when the header is torn or corrupt (the file is deleted).
    /// </summary>
    private (ChunkHeader Header, int DataStart, int DataLength, long FileLength)? ReadHeader(ChunkId id)
    {
        (byte[] Head, long FileLength)? read;
        try
        {
            read = _directory!.ReadHead(id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DiskFailed(e, "read", id.ObjectId);
            _index.Remove(id);
            return null;
        }

        if (read is not { } found)
        {
            _index.Remove(id);
            return null;
        }

        if (ChunkFile.TryDecodeHeader(found.Head, out var dataStart, out var dataLength) is not { } header)
        {
            Discard(id);
            return null;
        }

        return (header, dataStart, dataLength, found.FileLength);
    }

    /// <summary>Drops a chunk file that is torn, corrupt or not what its name says.</summary>
    private void Discard(ChunkId id)
    {
        _counters.CorruptChunk();
        _index.Remove(id);
        DiskCall(() => _directory!.Delete(id), "delete corrupt chunk of", id.ObjectId);
    }

    private int ExpectedLength(long index, long objectSize) => (int)Math.Clamp(objectSize - index * _chunkSize, 0, _chunkSize);

    /// <summary>
    /// Fills <paramref name="chunks"/> at the <paramref name="missing"/> chunk numbers: chunks another read is already
    /// fetching are awaited, the rest are claimed and fetched with one GET per contiguous run, then written to disk.
    /// False when the object turned out changed or gone, or a fetch this read waited on failed.
    /// </summary>
    private async ValueTask<bool> FetchAsync(
        ObjectPath path, string key, string objectId, CachedObjectInfo info, long first, List<long> missing, ChunkSlice?[] chunks, CancellationToken cancellationToken)
    {
        var claimed = new List<(long Index, TaskCompletionSource<ReadOnlyMemory<byte>?> Source)>();
        var waits = new List<(long Index, Task<ReadOnlyMemory<byte>?> Task)>();
        foreach (var i in missing)
        {
            var source = new TaskCompletionSource<ReadOnlyMemory<byte>?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = _inflight.GetOrAdd(new ChunkId(objectId, i), source.Task);
            if (task == source.Task)
            {
                claimed.Add((i, source));
            }
            else
            {
                waits.Add((i, task));
            }
        }

        var ok = true;
        var runStart = 0;
        while (runStart < claimed.Count)
        {
            var runEnd = runStart;
            while (runEnd + 1 < claimed.Count && claimed[runEnd + 1].Index == claimed[runEnd].Index + 1)
            {
                runEnd++;
            }

            ok &= await FetchRunAsync(path, key, objectId, info, claimed.GetRange(runStart, runEnd - runStart + 1), first, chunks, cancellationToken).ConfigureAwait(false);
            runStart = runEnd + 1;
        }

        foreach (var (index, task) in waits)
        {
            ReadOnlyMemory<byte>? shared;
            try
            {
                shared = await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                shared = null;
            }

            ok &= shared is not null;
            chunks[index - first] = shared is { } whole ? new ChunkSlice(whole, 0) : null;
        }

        return ok;
    }

    /// <summary>Fetches one run of claimed chunks with one GET, hands them to waiting readers, then writes them to disk.</summary>
    private async ValueTask<bool> FetchRunAsync(
        ObjectPath path,
        string key,
        string objectId,
        CachedObjectInfo info,
        List<(long Index, TaskCompletionSource<ReadOnlyMemory<byte>?> Source)> run,
        long first,
        ChunkSlice?[] chunks,
        CancellationToken cancellationToken)
    {
        try
        {
            var start = run[0].Index * _chunkSize;
            var end = Math.Min((run[^1].Index + 1) * _chunkSize, info.Size);
            var result = await _inner.GetAsync(path, ByteRange.FromOffset(start, end - start), cancellationToken).ConfigureAwait(false);
            if (result is null || result.Metadata.Size != info.Size || result.Metadata.Version.Token != info.Version || result.Data.Length != end - start)
            {
                // Gone (deleted by a collector elsewhere) or replaced: its chunks describe bytes that no longer exist.
                InvalidateObject(objectId);
                return false;
            }

            _counters.Missed(run.Count, result.Data.Length);
            foreach (var (index, source) in run)
            {
                var offset = (int)(index * _chunkSize - start);
                var chunk = result.Data.Slice(offset, ExpectedLength(index, info.Size));
                chunks[index - first] = new ChunkSlice(chunk, 0);
                source.TrySetResult(chunk);
            }

            foreach (var (index, _) in run)
            {
                await StoreChunkAsync(new ChunkId(objectId, index), key, info, chunks[index - first]!.Value.Bytes, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            foreach (var (index, source) in run)
            {
                // Waiters on a failed fetch get null and ask the store themselves; a fault here would go unobserved.
                source.TrySetResult(null);
                _inflight.TryRemove(new KeyValuePair<ChunkId, Task<ReadOnlyMemory<byte>?>>(new ChunkId(objectId, index), source.Task));
            }
        }
    }

    /// <summary>
    /// A read of an object the cache knows nothing of (first touch, usually the SST reader's suffix read of its footer):
    /// widened to whole chunks so that what comes back fills the cache and tells it the object's size and version.
    /// </summary>
    private async ValueTask<GetResult?> FetchUnknownAsync(
        ObjectPath path, string key, string objectId, ByteRange range, Memory<byte>? destination, CancellationToken cancellationToken)
    {
        ByteRange widened;
        if (range.IsSuffix && range.Length <= ScanThresholdBytes)
        {
            // One extra chunk guarantees that every chunk overlapping the suffix is inside what comes back.
            widened = ByteRange.Suffix(range.Length + _chunkSize);
        }
        else if (!range.IsSuffix && range.Length >= 0 && range.Length <= ScanThresholdBytes)
        {
            var alignedStart = range.Offset / _chunkSize * _chunkSize;
            var alignedEnd = (range.Offset + range.Length + _chunkSize - 1) / _chunkSize * _chunkSize;
            widened = ByteRange.FromOffset(alignedStart, Math.Max(alignedEnd - alignedStart, _chunkSize));
        }
        else
        {
            _counters.PassedThrough();
            return await PassThroughAsync(path, range, destination, cancellationToken).ConfigureAwait(false);
        }

        var result = await _inner.GetAsync(path, widened, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return null;
        }

        var size = result.Metadata.Size;
        var (start, length) = range.Resolve(size, path);
        var info = new CachedObjectInfo(size, result.Metadata.Version.Token, result.Metadata.LastModified);
        var resultEnd = result.Offset + result.Data.Length;
        var chunkCount = 0;
        for (var index = (result.Offset + _chunkSize - 1) / _chunkSize; index * _chunkSize < resultEnd; index++)
        {
            var chunkLength = ExpectedLength(index, size);
            if (index * _chunkSize + chunkLength > resultEnd)
            {
                break;
            }

            chunkCount++;
            var chunk = result.Data.Slice((int)(index * _chunkSize - result.Offset), chunkLength);
            await StoreChunkAsync(new ChunkId(objectId, index), key, info, chunk, cancellationToken).ConfigureAwait(false);
        }

        _counters.Missed(chunkCount, result.Data.Length);
        return Into(new GetResult(result.Metadata, start, result.Data.Slice((int)(start - result.Offset), (int)length)), destination);
    }

    /// <summary>Writes a chunk file and indexes it; a disk failure is logged and the chunk simply not cached.</summary>
    private async ValueTask StoreChunkAsync(ChunkId id, string key, CachedObjectInfo info, ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        var file = ChunkFile.Encode(new ChunkHeader(key, id.Index * _chunkSize, info.Size, info.Version, info.LastModified), chunk.Span);
        if (file.Length > _index.MaxBytes)
        {
            return;
        }

        long written;
        try
        {
            written = await _directory!.WriteAsync(id, file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DiskFailed(e, "write a chunk of", id.ObjectId);
            return;
        }

        DeleteEvicted(_index.Add(id, written, info));
    }
}

/// <summary>Bytes of one chunk from offset <paramref name="Start"/> in it: the whole chunk when fetched, whole pages when read from disk.</summary>
internal readonly record struct ChunkSlice(ReadOnlyMemory<byte> Bytes, int Start);
