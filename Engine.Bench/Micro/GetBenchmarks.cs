using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using SlateSharp.Storage.Local;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// Point reads of a database on the local store (a temp dir): 300k keys of 16 bytes with 100-byte values, flushed to
/// L0 through 16 MiB memtables (five L0 SSTs, so a get probes several bloom filters), compaction off so nothing moves
/// under the measurement. "Warm" gets pick among 1024 present keys whose blocks are all in the block cache; "cold"
/// gets pick among all keys of a database opened without a block cache, so every get reads its block from the store
/// (the OS page cache still holds the files: this is the engine's cost of a block-cache miss, not the disk's).
/// </summary>
[MemoryDiagnoser]
public class GetBenchmarks
{
    private const int KeyCount = 300_000;
    private const int WarmKeys = 1024;

    private readonly ArrayBufferWriter<byte> _destination = new(256);
    private string _directory = "";
    private LocalFileSystemObjectStore _warmStore = null!;
    private LocalFileSystemObjectStore _coldStore = null!;
    private Db _warm = null!;
    private Db _cold = null!;
    private byte[][] _present = [];
    private byte[][] _missing = [];
    private byte[][] _all = [];
    private byte[][] _outside = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "slatesharp-getbench-" + Environment.ProcessId);
        (_warmStore, _warm) = Load(Path.Combine(_directory, "warm"), 64L << 20);
        (_coldStore, _cold) = Load(Path.Combine(_directory, "cold"), 0);
        var random = new Random(11);
        _present = Enumerable.Range(0, WarmKeys).Select(_ => Key(random.Next(KeyCount) * 3)).ToArray();
        _missing = Enumerable.Range(0, WarmKeys).Select(_ => Key((random.Next(KeyCount) * 3) + 1)).ToArray();
        _outside = Enumerable.Range(0, WarmKeys).Select(_ => Key((KeyCount * 3) + random.Next(KeyCount))).ToArray();
        _all = Enumerable.Range(0, 1 << 16).Select(_ => Key(random.Next(KeyCount) * 3)).ToArray();
        foreach (var key in _present)
        {
            _ = _warm.GetAsync(key).AsTask().GetAwaiter().GetResult() ?? throw new InvalidOperationException("a present key is missing");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _warm.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _cold.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _warmStore.Dispose();
        _coldStore.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A present key whose block is cached.</summary>
    [Benchmark]
    public async ValueTask<int> GetWarm() => (await _warm.GetAsync(_present[_next++ & (WarmKeys - 1)]))!.Length;

    /// <summary>The same, into a caller's buffer (no allocation for the value).</summary>
    [Benchmark]
    public async ValueTask<int> GetWarmIntoBuffer()
    {
        _destination.ResetWrittenCount();
        _ = await _warm.GetAsync(_present[_next++ & (WarmKeys - 1)], _destination);
        return _destination.WrittenCount;
    }

    /// <summary>An absent key inside the SSTs' key range: the bloom filters answer (about 1% reach a block).</summary>
    [Benchmark]
    public async ValueTask<bool> GetMissing() => await _warm.GetAsync(_missing[_next++ & (WarmKeys - 1)]) is null;

    /// <summary>An absent key above every SST's key range (compare's readmissing): no filter is probed.</summary>
    [Benchmark]
    public async ValueTask<bool> GetMissingOutsideRange() => await _warm.GetAsync(_outside[_next++ & (WarmKeys - 1)]) is null;

    /// <summary>A present key with no block cache: one ranged read of the local store per get.</summary>
    [Benchmark]
    public async ValueTask<int> GetCold() => (await _cold.GetAsync(_all[_next++ & ((1 << 16) - 1)]))!.Length;

    private static (LocalFileSystemObjectStore Store, Db Db) Load(string directory, long blockCacheBytes)
    {
        var store = LocalFileSystemObjectStore.Open(directory);
        var options = new DbOptions
        {
            MemtableSizeBytes = 16L << 20,
            L0MaxSsts = 16,
            BlockCacheBytes = blockCacheBytes,
            Compaction = new CompactionOptions { Enabled = false },
            RandomSeed = 5,
        };
        var db = Db.OpenAsync(store, string.Empty, options).AsTask().GetAwaiter().GetResult();
        var random = new Random(42);
        Task.Run(async () =>
        {
            for (var i = 0; i < KeyCount; i++)
            {
                await db.PutAsync(Key(i * 3), MicroData.Value(random, 100), WriteOptions.NoWait);
            }

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            await db.FlushAsync();
        }).GetAwaiter().GetResult();
        return (store, db);
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key-{i:D12}");
}
