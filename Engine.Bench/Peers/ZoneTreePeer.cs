using ZoneTree;
using ZoneTree.Comparers;
using ZoneTree.Options;
using ZoneTree.Serializers;

namespace SlateSharp.Bench.Peers;

/// <summary>
/// ZoneTree, the closest .NET LSM, with its background maintainer (moves full mutable segments to disk and merges).
/// Acknowledged mode: WAL mode AsyncCompressed (appends queued to a background writer, the only asynchronous mode it
/// has; its WAL compression set to none). Durable mode: WAL mode Sync (each write flushed to the WAL file before it
/// returns; it is not fsynced per write, see <see cref="Describe"/>). Disk segments uncompressed. ZoneTree has no byte-sized block cache (its caches count records), so its
/// cache settings are left at their defaults.
/// </summary>
internal sealed class ZoneTreePeer : IBenchEngine
{
    private readonly IZoneTree<Memory<byte>, Memory<byte>> _tree;
    private readonly IMaintainer _maintainer;
    private readonly bool _durable;

    public ZoneTreePeer(PeerOptions options)
    {
        _tree = new ZoneTreeFactory<Memory<byte>, Memory<byte>>()
            .SetDataDirectory(options.Directory)
            .SetComparer(new ByteArrayLexicographicComparerAscending())
            .SetKeySerializer(new ByteArraySerializer())
            .SetValueSerializer(new ByteArraySerializer())
            .ConfigureWriteAheadLogOptions(wal =>
            {
                wal.WriteAheadLogMode = options.Durable ? WriteAheadLogMode.Sync : WriteAheadLogMode.AsyncCompressed;
                wal.CompressionMethod = CompressionMethod.None;
            })
            .ConfigureDiskSegmentOptions(disk => disk.CompressionMethod = CompressionMethod.None)
            .OpenOrCreate();
        _maintainer = _tree.CreateMaintainer();
        _durable = options.Durable;
    }

    public string Name => "zonetree";

    public ValueTask PutAsync(byte[] key, byte[] value)
    {
        Memory<byte> k = key, v = value;
        _tree.Upsert(in k, in v);
        return ValueTask.CompletedTask;
    }

    /// <summary>ZoneTree's non-transactional tree has no batch write; the rows go one by one.</summary>
    public ValueTask PutBatchAsync(IReadOnlyList<KeyValuePair<byte[], byte[]>> rows)
    {
        foreach (var (key, value) in rows)
        {
            Memory<byte> k = key, v = value;
            _tree.Upsert(in k, in v);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> GetAsync(byte[] key)
    {
        Memory<byte> k = key;
        return ValueTask.FromResult(_tree.TryGet(in k, out var value) ? value.ToArray() : null);
    }

    public ValueTask<int> ScanAsync(byte[] start, int rows)
    {
        using var iterator = _tree.CreateIterator(IteratorType.NoRefresh, false, false);
        Memory<byte> k = start;
        iterator.Seek(in k);
        var read = 0;
        while (read < rows && iterator.Next())
        {
            _ = iterator.CurrentValue;
            read++;
        }

        return ValueTask.FromResult(read);
    }

    public ValueTask FlushToFilesAsync()
    {
        _maintainer.WaitForBackgroundThreads();
        _tree.Maintenance.MoveMutableSegmentForward();
        _tree.Maintenance.StartMergeOperation()?.Join();
        _maintainer.WaitForBackgroundThreads();
        _tree.Maintenance.SaveMetaData();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// ZoneTree's Sync mode appends each write to a buffered FileStream (4 KiB) and flushes it with fsync only when the
    /// log is closed or replaced, so its durable figures are not fsync-per-write figures (read in its source,
    /// WAL/Sync/SyncFileSystemWriteAheadLog.cs, and seen as µs latencies). Said in every durable report.
    /// </summary>
    public string? Describe(long measuredOps) => _durable ? "Sync WAL mode: buffered append, no fsync per write" : null;

    public ValueTask DisposeAsync()
    {
        _maintainer.WaitForBackgroundThreads();
        _maintainer.Dispose();
        _tree.Dispose();
        return ValueTask.CompletedTask;
    }
}
