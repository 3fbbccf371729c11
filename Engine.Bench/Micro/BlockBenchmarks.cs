using System.Buffers;
using BenchmarkDotNet.Attributes;
using SlateSharp.Format;
using SlateSharp.Sst;

namespace SlateSharp.Bench.Micro;

/// <summary>Building a 4 KiB data block, and seeking within one.</summary>
[MemoryDiagnoser]
public class BlockBenchmarks
{
    private RowEntry[] _rows = [];
    private BlockBuilder _builder = null!;
    private BlockIterator _iterator = null!;
    private byte[][] _targets = [];
    private int _next;

    /// <summary>Raw bytes of the block built by <see cref="BuildBlock"/> (for MB/s).</summary>
    public int BlockBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _builder = new BlockBuilder();
        var all = MicroData.Rows(1000);
        var count = 0;
        foreach (var row in all)
        {
            if (_builder.CurrentSize + BlockBuilder.MaxEntrySize(row.Key.Length, row.Value.Length, false) > 4096)
            {
                break;
            }

            _builder.Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt);
            count++;
        }

        _rows = all[..count];
        var raw = _builder.Finish();
        BlockBytes = raw.Length;
        var stored = new ArrayBufferWriter<byte>();
        Block.WriteStored(raw, CompressionCodec.None, 3, stored, out _);
        _iterator = new BlockIterator(Block.Decode(stored.WrittenMemory, "bench", 0, 1 << 20));
        var random = new Random(7);
        _targets = Enumerable.Range(0, 1024).Select(_ => _rows[random.Next(_rows.Length)].Key.ToArray()).ToArray();
        Console.WriteLine($"// block: rows={_rows.Length} raw_bytes={BlockBytes}");
    }

    [GlobalCleanup]
    public void Cleanup() => _builder.Dispose();

    /// <summary>Builds one 4 KiB block (about 35 rows of 16-byte keys and 100-byte values).</summary>
    [Benchmark]
    public int BuildBlock()
    {
        _builder.Reset();
        foreach (var row in _rows)
        {
            _builder.Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt);
        }

        return _builder.Finish().Length;
    }

    /// <summary>Seeks to a random existing key in a 4 KiB block.</summary>
    [Benchmark]
    public bool SeekInBlock()
    {
        var target = _targets[_next++ & 1023];
        return _iterator.Seek(target);
    }
}
