using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using SlateSharp.Storage.Decorators;

namespace SlateSharp.Storage.Caching;

/// <summary>
/// Caches ranged reads of immutable objects (the SSTs; <c>cacheable</c> says which paths) on a local disk in aligned
/// chunks of <see cref="DiskCacheOptions.ChunkSizeBytes"/>, bounded by <see cref="DiskCacheOptions.MaxBytes"/>
/// (docs/design/disk-cache.md). Everything else passes through untouched. Reads of cacheable objects are served from
/// chunk files where they exist; the missing chunks of a read are fetched with one ranged GET per contiguous run,
/// which concurrent readers of the same chunk share, and written to disk. Writing or deleting a cacheable object drops
/// its chunks. The disk never fails a read: a missing, torn or corrupt chunk file is a miss, and an I/O error is
/// logged and the read goes to the inner store.
/// </summary>
internal sealed partial class DiskCachedObjectStore : IObjectStore, IObjectStoreDecorator, IStagingObjectStore, IReadIntoObjectStore
{
    /// <summary>Reads longer than this (and than one chunk) are scans, compaction's readahead: not worth filling with.</summary>
    public const int ScanThresholdBytes = 256 << 10;

    private readonly IObjectStore _inner;
    private readonly IAsyncDisposable? _ownedInner;
    private readonly Func<ObjectPath, bool> _cacheable;
    private readonly ChunkDirectory? _directory;
    private readonly ChunkIndex _index;
    private readonly int _chunkSize;
    private readonly ILogger _logger;
    private readonly DiskCacheCounters _counters = new();
    private readonly ConcurrentDictionary<ChunkId, Task<ReadOnlyMemory<byte>?>> _inflight = new();
    private int _diskErrorLogged;

    private DiskCachedObjectStore(IObjectStore inner, IAsyncDisposable? ownedInner, DiskCacheOptions options, Func<ObjectPath, bool> cacheable, ChunkDirectory? directory, ILogger logger)
    {
        _inner = inner;
        _ownedInner = ownedInner;
        _cacheable = cacheable;
        _directory = directory;
        _index = new ChunkIndex(options.MaxBytes);
        _chunkSize = options.ChunkSizeBytes;
        _logger = logger;
    }

    public IObjectStore Inner => _inner;

    public string Location => _inner.Location;

    /// <summary>False when the directory could not be used at open: the store then only passes calls through.</summary>
    public bool Enabled => _directory is not null;

    public int ChunkSize => _chunkSize;

    /// <summary>
    /// Opens the cache in <see cref="DiskCacheOptions.Directory"/> over <paramref name="inner"/> and rebuilds its index
    /// from the chunk files there. A directory that cannot be created or read makes a cache that passes everything
    /// through (logged); one locked by another cache fails with <see cref="ErrorKind.Invalid"/>. Disposing the cache
    /// disposes <paramref name="ownedInner"/>.
    /// </summary>
    public static DiskCachedObjectStore Open(IObjectStore inner, IAsyncDisposable? ownedInner, DiskCacheOptions options, Func<ObjectPath, bool> cacheable, ILogger logger)
    {
        ChunkDirectory? directory = null;
        List<ScannedChunk> found = [];
        try
        {
            directory = ChunkDirectory.Open(options.Directory);
            found = directory.Scan();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            directory?.Dispose();
            directory = null;
            logger.LogWarning(e, "disk cache disabled: cannot use {Directory}; reads go to the object store", options.Directory);
        }

        var cache = new DiskCachedObjectStore(inner, ownedInner, options, cacheable, directory, logger);
        if (directory is not null)
        {
            // Oldest first, so that the newest end up most recently used and a smaller bound evicts the oldest.
            foreach (var chunk in found.OrderBy(c => c.WrittenUtc))
            {
                cache.DeleteEvicted(cache._index.Add(chunk.Id, chunk.Bytes, null), counted: false);
            }

            logger.LogInformation("disk cache {Directory}: {Chunks} chunks, {Bytes} bytes", directory.Root, cache._index.Count, cache._index.Bytes);
        }

        return cache;
    }

    public DiskCacheStats Stats() => _counters.Snapshot(_index.Bytes, _index.Count, Enabled);

    public async ValueTask DisposeAsync()
    {
        _directory?.Dispose();
        if (_ownedInner is not null)
        {
            await _ownedInner.DisposeAsync().ConfigureAwait(false);
        }
    }

    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        _inner.HeadAsync(path, cancellationToken);

    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        _directory is null || !_cacheable(path) ? _inner.GetAsync(path, range, cancellationToken) : GetCachedAsync(path, range, null, cancellationToken);

    /// <summary>
    /// Every read lands in the caller's buffer: one passed through (a compaction's readahead, an object not cached) as
    /// the wrapped store reads it, one served from disk copied from the chunk files, which are read either way.
    /// </summary>
    public bool ReadsInPlace => true;

    public ValueTask<GetResult?> GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        _directory is null || !_cacheable(path)
            ? ReadsInto.GetIntoAsync(_inner, path, offset, destination, cancellationToken)
            : GetCachedAsync(path, ByteRange.FromOffset(offset, destination.Length), destination, cancellationToken);

    public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        // Cacheable objects are never rewritten; should one be, its old chunks must not outlive the old bytes.
        Invalidate(path);
        return await _inner.PutAsync(path, content, options, cancellationToken).ConfigureAwait(false);
    }

    public bool PreparesAhead => StagedPuts.PreparesAhead(_inner);

    public async ValueTask<IStagedPut> StageAsync(ObjectPath near, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        new DecoratedStagedPut(
            await StagedPuts.StageAsync(_inner, near, content, cancellationToken).ConfigureAwait(false),
            (staged, path, options, ct) =>
            {
                Invalidate(path);
                return staged.PutAsync(path, options, ct);
            });

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        Invalidate(path);
        return await _inner.PutAsync(path, content, options, cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in _inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        await _inner.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
        Invalidate(path);
    }

    private string KeyOf(ObjectPath path) => $"{_inner.Location}|{path.Value}";

    /// <summary>Drops every chunk of <paramref name="path"/>, indexed or not.</summary>
    private void Invalidate(ObjectPath path)
    {
        if (_directory is null || !_cacheable(path))
        {
            return;
        }

        InvalidateObject(ChunkDirectory.ObjectIdOf(KeyOf(path)));
    }

    private void InvalidateObject(string objectId)
    {
        _index.RemoveObject(objectId);
        DiskCall(() => _directory!.DeleteObject(objectId), "delete chunks of", objectId);
    }

    private void DeleteEvicted(List<ChunkId> evicted, bool counted = true)
    {
        foreach (var id in evicted)
        {
            DiskCall(() => _directory!.Delete(id), "evict", id.ObjectId);
        }

        if (counted)
        {
            _counters.Evicted(evicted.Count);
        }
    }

    private void DiskCall(Action action, string what, string objectId)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DiskFailed(e, what, objectId);
        }
    }

    /// <summary>Counts and logs a failure of the cache directory: the first as a warning, the rest at debug level.</summary>
    private void DiskFailed(Exception e, string what, string objectId)
    {
        _counters.DiskError();
        if (Interlocked.Exchange(ref _diskErrorLogged, 1) == 0)
        {
            _logger.LogWarning(e, "disk cache: cannot {What} object {ObjectId} in {Directory}; reads go to the object store", what, objectId, _directory?.Root);
        }
        else
        {
            _logger.LogDebug("disk cache: cannot {What} object {ObjectId}: {Error}", what, objectId, e.Message);
        }
    }
}
