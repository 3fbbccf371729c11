namespace SlateSharp.Storage.Caching;

/// <summary>The disk cache's counters, updated lock-free; <see cref="Snapshot"/> reads them for <see cref="DiskCacheStats"/>.</summary>
internal sealed class DiskCacheCounters
{
    private long _hits;
    private long _misses;
    private long _bytesServed;
    private long _bytesFetched;
    private long _evictions;
    private long _corrupt;
    private long _diskErrors;
    private long _passedThrough;

    public void Hit(long bytes)
    {
        Interlocked.Increment(ref _hits);
        Interlocked.Add(ref _bytesServed, bytes);
    }

    public void Missed(int chunks, long bytesFetched)
    {
        Interlocked.Add(ref _misses, chunks);
        Interlocked.Add(ref _bytesFetched, bytesFetched);
    }

    public void Evicted(int chunks) => Interlocked.Add(ref _evictions, chunks);

    public void CorruptChunk() => Interlocked.Increment(ref _corrupt);

    public void DiskError() => Interlocked.Increment(ref _diskErrors);

    public void PassedThrough() => Interlocked.Increment(ref _passedThrough);

    public DiskCacheStats Snapshot(long currentBytes, long currentChunks, bool enabled) => new(
        Interlocked.Read(ref _hits),
        Interlocked.Read(ref _misses),
        Interlocked.Read(ref _bytesServed),
        Interlocked.Read(ref _bytesFetched),
        Interlocked.Read(ref _evictions),
        currentBytes,
        currentChunks,
        Interlocked.Read(ref _corrupt),
        Interlocked.Read(ref _diskErrors),
        Interlocked.Read(ref _passedThrough),
        enabled);
}
