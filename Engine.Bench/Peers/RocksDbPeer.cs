using RocksDbSharp;
using RocksCompression = RocksDbSharp.Compression;
using RocksDbOptions = RocksDbSharp.DbOptions;
using RocksFlushOptions = RocksDbSharp.FlushOptions;
using RocksWriteBatch = RocksDbSharp.WriteBatch;
using RocksWriteOptions = RocksDbSharp.WriteOptions;

namespace SlateSharp.Bench.Peers;

/// <summary>
/// RocksDB (the RocksDB NuGet package: RocksDbSharp bindings with native librocksdb). WAL on; acknowledged mode writes
/// with sync=false (in the OS page cache, not fsynced), durable mode with sync=true. No compression, a 64 MiB LRU block
/// cache, 10-bit bloom filters as SlateSharp's default, 64 MiB write buffer (its default, SlateSharp's memtable size).
/// </summary>
internal sealed class RocksDbPeer : IBenchEngine
{
    private readonly RocksDb _db;
    private readonly RocksWriteOptions _writeOptions;
    private readonly Cache _cache;

    public RocksDbPeer(PeerOptions options)
    {
        _cache = Cache.CreateLru((ulong)options.CacheBytes);
        var table = new BlockBasedTableOptions()
            .SetBlockCache(_cache)
            .SetFilterPolicy(BloomFilterPolicy.Create(10, false))
            .SetBlockSize(4096);
        var dbOptions = new RocksDbOptions()
            .SetCreateIfMissing(true)
            .SetCompression(RocksCompression.No)
            .SetBlockBasedTableFactory(table);
        _db = RocksDb.Open(dbOptions, options.Directory);
        _writeOptions = new RocksWriteOptions().SetSync(options.Durable);
    }

    public string Name => "rocksdb";

    public ValueTask PutAsync(byte[] key, byte[] value)
    {
        _db.Put(key, value, null, _writeOptions);
        return ValueTask.CompletedTask;
    }

    public ValueTask PutBatchAsync(IReadOnlyList<KeyValuePair<byte[], byte[]>> rows)
    {
        using var batch = new RocksWriteBatch();
        foreach (var (key, value) in rows)
        {
            batch.Put(key, value, null);
        }

        _db.Write(batch, _writeOptions);
        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> GetAsync(byte[] key) => ValueTask.FromResult<byte[]?>(_db.Get(key, null, null));

    public ValueTask<int> ScanAsync(byte[] start, int rows)
    {
        using var iterator = _db.NewIterator(null, null);
        var read = 0;
        for (iterator.Seek(start); iterator.Valid() && read < rows; iterator.Next())
        {
            _ = iterator.GetValueSpan();
            read++;
        }

        return ValueTask.FromResult(read);
    }

    public ValueTask FlushToFilesAsync()
    {
        _db.Flush(new RocksFlushOptions().SetWaitForFlush(true));
        return ValueTask.CompletedTask;
    }

    public string? Describe(long measuredOps) => null;

    public ValueTask DisposeAsync()
    {
        _db.Dispose();
        return ValueTask.CompletedTask;
    }
}
