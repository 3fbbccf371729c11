using Microsoft.Extensions.Logging;

namespace SlateSharp.Bench.Peers;

/// <summary>
/// SlateSharp through its public API only, on a <c>file://</c> URL, default options (64 MiB memtables and block
/// cache, 1 GiB for unflushed writes, no compression, embedded compaction) unless <see cref="PeerOptions"/> changes
/// the cache or the unflushed budget. Acknowledged mode uses <see cref="WriteOptions.NoWait"/> (the
/// memtable acknowledges, the WAL upload follows within <see cref="DbOptions.FlushInterval"/>); durable mode the
/// default, which waits for the WAL object holding the write. The engine's errors (a background compactor or flusher
/// that stops) go to standard error, so a run that stalls says why.
/// </summary>
internal sealed class SlateSharpPeer : IBenchEngine
{
    private readonly Db _db;
    private readonly ILoggerFactory _loggers;
    private readonly WriteOptions _writeOptions;

    private SlateSharpPeer(Db db, ILoggerFactory loggers, bool durable)
    {
        _db = db;
        _loggers = loggers;
        _writeOptions = durable ? WriteOptions.Default : WriteOptions.NoWait;
    }

    public string Name => PeerEngines.SlateSharp;

    public static async ValueTask<SlateSharpPeer> OpenAsync(PeerOptions options)
    {
        var loggers = LoggerFactory.Create(b => b
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(LogLevel.Error));
        var dbOptions = new DbOptions
        {
            BlockCacheBytes = options.CacheBytes,
            MaxUnflushedBytes = options.MaxUnflushedBytes,
            Compression = CompressionCodec.None,
            RandomSeed = 42,
            LoggerFactory = loggers,
        };
        var db = await Db.OpenAsync(new Uri(Path.GetFullPath(options.Directory)).AbsoluteUri, dbOptions);
        SlateSharpMemoryLog.StartIfAsked(db);
        return new SlateSharpPeer(db, loggers, options.Durable);
    }

    public ValueTask PutAsync(byte[] key, byte[] value) => _db.PutAsync(key, value, _writeOptions);

    public ValueTask PutBatchAsync(IReadOnlyList<KeyValuePair<byte[], byte[]>> rows)
    {
        var batch = new WriteBatch();
        foreach (var (key, value) in rows)
        {
            batch.Put(key, value);
        }

        return _db.WriteAsync(batch, _writeOptions);
    }

    public ValueTask<byte[]?> GetAsync(byte[] key) => _db.GetAsync(key);

    public async ValueTask<int> ScanAsync(byte[] start, int rows)
    {
        if (rows <= 0)
        {
            return 0;
        }

        var read = 0;
        await foreach (var _ in _db.ScanAsync(KeyRange.From(start), new ScanOptions { Limit = rows }))
        {
            read++;
        }

        return read;
    }

    public async ValueTask FlushToFilesAsync()
    {
        await _db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await _db.FlushAsync();
    }

    /// <summary>
    /// From <see cref="Db.GetStats"/> (public) since this instance opened: WAL objects per operation shows the group
    /// commit of durable puts; stalls and L0 show whether the writer was held back.
    /// </summary>
    public string? Describe(long measuredOps)
    {
        var stats = _db.GetStats();
        var perObject = stats.WalObjectsWritten > 0 ? $" (1 per {(double)measuredOps / stats.WalObjectsWritten:0.#} ops)" : "";
        var lookups = stats.BlockCacheHits + stats.BlockCacheMisses;
        var hits = lookups > 0 ? $", block cache hits {(double)stats.BlockCacheHits / lookups:P0}" : "";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"WAL objects {stats.WalObjectsWritten}{perObject}, L0 SSTs {stats.L0Ssts}, writer stalls {stats.WriterStalls}, requests GET/PUT/LIST {stats.Requests.Gets}/{stats.Requests.Puts}/{stats.Requests.Lists}{hits}");
    }

    public async ValueTask DisposeAsync()
    {
        await _db.CloseAsync();
        await _db.DisposeAsync();
        _loggers.Dispose();
    }
}
