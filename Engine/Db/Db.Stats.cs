using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;

namespace SlateSharp;

/// <summary>The public figures of a running database (<see cref="DbStats"/>).</summary>
public sealed partial class Db
{
    /// <summary>A snapshot of this database's counters and gauges; cheap enough to call every second.</summary>
    public DbStats GetStats()
    {
        var view = _view;
        var metrics = ObjectStores.MetricsOf(_store);
        return new DbStats
        {
            LastSequence = Volatile.Read(ref _visibleSequence),
            DurableSequence = DurableSequence,
            UnflushedBytes = UnflushedBytes,
            UnstoredWalBytes = UnstoredWalBytes,
            FrozenMemtables = view.Immutables.Count,
            MemtablePoolBytes = _memtableChunks.PooledBytes,
            MemtableMemoryBytes = _memtableChunks.AllocatedBytes,
            MemtableChunksReused = _memtableChunks.Reused,
            MemtableChunksDropped = _memtableChunks.Dropped,
            L0Ssts = view.Manifest.L0.Count,
            SortedRuns = view.Manifest.SortedRuns.Count,
            L0Bytes = view.Manifest.L0.Sum(s => s.Size),
            SortedRunBytes = [.. view.Manifest.SortedRuns.Select(r => r.Ssts.Sum(s => s.Size))],
            ManifestId = view.ManifestId,
            ManifestConflicts = _manifest.Conflicts,
            WriterStalls = WriterStalls,
            L0StallTime = _flusher.L0StallTime,
            WalObjectsWritten = _wal.ObjectsWritten,
            WalBytesWritten = _wal.BytesWritten,
            MemtableFlushes = _flusher.SstsWritten,
            MemtableFlushBytes = _flusher.BytesWritten,
            BlockCacheHits = _blockCache?.Hits ?? 0,
            BlockCacheMisses = _blockCache?.Misses ?? 0,
            Compaction = CompactionStats,
            DiskCache = DiskCacheStats,
            Requests = metrics is null ? new ObjectStoreStats(0, 0, 0, 0, 0, 0, 0, 0) : new ObjectStoreStats(
                metrics.Requests(RequestKind.Get),
                metrics.Requests(RequestKind.Put),
                metrics.Requests(RequestKind.List),
                metrics.Requests(RequestKind.Delete),
                metrics.Requests(RequestKind.Head),
                Enum.GetValues<RequestKind>().Sum(metrics.Failures),
                metrics.BytesDown,
                metrics.BytesUp),
        };
    }
}
