using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using BenchmarkDotNet.Attributes;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// What the engine's metrics cost a put and a cached get, with nobody listening and with a <see cref="MeterListener"/>
/// that enables every instrument of the <c>SlateSharp</c> meter and sums what it is given, as an exporter's
/// aggregation would. An in-memory database: 100,000 keys flushed to one L0 SST whose blocks the gets find cached.
/// </summary>
[MemoryDiagnoser]
public class TelemetryBenchmarks
{
    private const int KeyCount = 100_000;
    private const int PutsPerInvoke = 10_000;

    private readonly ArrayBufferWriter<byte> _destination = new(256);
    private readonly byte[] _value = new byte[100];
    private MeterListener? _listener;
    private Db _db = null!;
    private byte[][] _keys = [];
    private long _sum;
    private int _next;
    private int _putKey;

    /// <summary>Whether a listener takes every measurement.</summary>
    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Listening)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == SlateSharpDiagnostics.Name)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _sum, value));
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => Interlocked.Add(ref _sum, (long)value));
            _listener.Start();
        }

        _db = Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions
        {
            MemtableSizeBytes = 1L << 30,
            MaxUnflushedBytes = 2L << 30,
            FlushInterval = TimeSpan.FromSeconds(30),
            Compaction = new CompactionOptions { Enabled = false },
            RandomSeed = 5,
        }).AsTask().GetAwaiter().GetResult();
        _keys = Enumerable.Range(0, KeyCount).Select(i => Encoding.ASCII.GetBytes($"key-{i * 7919 % KeyCount:D12}")).ToArray();
        Task.Run(async () =>
        {
            foreach (var key in _keys)
            {
                await _db.PutAsync(key, _value, WriteOptions.NoWait);
            }

            await _db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            foreach (var key in _keys)
            {
                _ = await _db.GetAsync(key) ?? throw new InvalidOperationException("a written key is missing");
            }
        }).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _db.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _listener?.Dispose();
    }

    /// <summary>A get of a key in an SST whose block is cached, into a reused buffer.</summary>
    [Benchmark]
    public bool GetCached()
    {
        _destination.ResetWrittenCount();
        return _db.GetAsync(_keys[_next++ % KeyCount], _destination).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Memtable-acknowledged puts of new keys (the memtable holds them all).</summary>
    [Benchmark(OperationsPerInvoke = PutsPerInvoke)]
    public async Task Put()
    {
        var key = new byte[16];
        for (var i = 0; i < PutsPerInvoke; i++)
        {
            BitConverter.TryWriteBytes(key, ++_putKey);
            await _db.PutAsync(key, _value, WriteOptions.NoWait);
        }
    }
}
