using BenchmarkDotNet.Attributes;
using SlateSharp.Compression;

namespace SlateSharp.Bench.Micro;

/// <summary>Compressing and decompressing one block with the engine's codecs (both managed since issue 12).</summary>
public class CodecBenchmarks
{
    private byte[] _source = [];
    private byte[] _compressed = [];
    private byte[] _output = [];
    private int _compressedLength;

    [Params(CompressionCodec.Lz4, CompressionCodec.Zstd)]
    public CompressionCodec Codec { get; set; }

    [Params(4096, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = MicroData.CompressibleBlock(Size);

        _compressed = new byte[BlockCompressor.MaxCompressedLength(Codec, Size)];
        _compressedLength = BlockCompressor.Compress(Codec, _source, _compressed);
        _output = new byte[Size];
        Console.WriteLine($"// {Codec} size={Size} compressed={_compressedLength} ratio={Size / (double)_compressedLength:F2}");
    }

    [Benchmark]
    public int Compress() => BlockCompressor.Compress(Codec, _source, _compressed);

    [Benchmark]
    public bool Decompress() => BlockCompressor.TryDecompress(Codec, _compressed.AsSpan(0, _compressedLength), _output);
}
