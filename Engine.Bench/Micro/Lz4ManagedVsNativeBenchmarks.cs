using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using SlateSharp.Compression;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// The engine's LZ4 (managed K4os.Compression.LZ4 since issue 12) against the system liblz4 it replaced, on the same
/// block in the same run: the figures behind the switch in docs/benchmarks.md. Needs liblz4.so.1 (Debian liblz4-1).
/// </summary>
public partial class Lz4ManagedVsNativeBenchmarks
{
    private byte[] _source = [];
    private byte[] _compressed = [];
    private byte[] _output = [];
    private int _compressedLength;

    [Params(4096, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = MicroData.CompressibleBlock(Size);

        _compressed = new byte[BlockCompressor.MaxCompressedLength(CompressionCodec.Lz4, Size)];
        _compressedLength = BlockCompressor.Compress(CompressionCodec.Lz4, _source, _compressed);
        _output = new byte[Size];
    }

    [Benchmark]
    public int ManagedCompress() => BlockCompressor.Compress(CompressionCodec.Lz4, _source, _compressed);

    [Benchmark(Baseline = true)]
    public int NativeCompress() => CompressDefault(ref _source[0], ref _compressed[0], _source.Length, _compressed.Length);

    [Benchmark]
    public bool ManagedDecompress() => BlockCompressor.TryDecompress(CompressionCodec.Lz4, _compressed.AsSpan(0, _compressedLength), _output);

    [Benchmark]
    public int NativeDecompress() => DecompressSafe(ref _compressed[0], ref _output[0], _compressedLength, _output.Length);

    [LibraryImport("liblz4.so.1", EntryPoint = "LZ4_compress_default")]
    private static partial int CompressDefault(ref byte source, ref byte destination, int sourceSize, int destinationCapacity);

    [LibraryImport("liblz4.so.1", EntryPoint = "LZ4_decompress_safe")]
    private static partial int DecompressSafe(ref byte source, ref byte destination, int compressedSize, int destinationCapacity);
}
