using BenchmarkDotNet.Attributes;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// The write path from <see cref="Db.PutAsync"/> to the memtable and WAL buffer, without the store: 100,000 puts of
/// random 16-byte keys and 100-byte values acknowledged from the memtable, one at a time and in batches of 100, on a
/// fresh in-memory database whose memtable holds them all (no flush runs). Shows time and bytes allocated per put.
/// </summary>
[MemoryDiagnoser]
public class PutBenchmarks
{
    private const int Rows = 100_000;
    private readonly byte[] _value = new byte[100];
    private byte[][] _keys = [];
    private Db _db = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(11);
        _keys = Enumerable.Range(0, Rows).Select(_ =>
        {
            var key = new byte[16];
            random.NextBytes(key);
            return key;
        }).ToArray();
        random.NextBytes(_value);
    }

    [IterationSetup]
    public void OpenDb() => _db = Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions
    {
        MemtableSizeBytes = 1L << 30,
        MaxUnflushedBytes = 2L << 30,
        FlushInterval = TimeSpan.FromSeconds(30),
        Compaction = new CompactionOptions { Enabled = false },
    }).AsTask().GetAwaiter().GetResult();

    [IterationCleanup]
    public void CloseDb() => _db.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One put at a time.</summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public async Task Put()
    {
        for (var i = 0; i < Rows; i++)
        {
            await _db.PutAsync(_keys[i], _value, WriteOptions.NoWait);
        }
    }

    /// <summary>Batches of 100 puts.</summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public async Task PutBatchOf100()
    {
        for (var i = 0; i < Rows; i += 100)
        {
            var batch = new WriteBatch();
            for (var j = i; j < i + 100; j++)
            {
                batch.Put(_keys[j], _value);
            }

            await _db.WriteAsync(batch, WriteOptions.NoWait);
        }
    }
}
