using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using SlateSharp.Compression;
using ZstdSharp.Unsafe;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// Zstandard at level 3 on the same block in the same run: the engine's codec (<c>BlockCompressor</c>, the managed
/// ZstdSharp.Port's one-shot <c>ZSTD_compress</c> / <c>ZSTD_decompress</c> since issue 12) against the system libzstd
/// it replaced through the same one-shot calls, and both through a context reused across calls. The figures behind
/// the switch in docs/benchmarks.md. Needs libzstd.so.1 (Debian libzstd1).
/// </summary>
[MinColumn, MedianColumn, MaxColumn]
public unsafe partial class ZstdManagedVsNativeBenchmarks
{
    private const int Level = 3;

    private byte[] _source = [];
    private byte[] _compressed = [];
    private byte[] _output = [];
    private int _compressedLength;
    private ZSTD_CCtx_s* _managedCompression;
    private ZSTD_DCtx_s* _managedDecompression;
    private nint _nativeCompression;
    private nint _nativeDecompression;

    [Params(4096, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = MicroData.CompressibleBlock(Size);
        _compressed = new byte[BlockCompressor.MaxCompressedLength(CompressionCodec.Zstd, Size)];
        _compressedLength = NativeCompress();
        _output = new byte[Size];
        _managedCompression = Methods.ZSTD_createCCtx();
        _managedDecompression = Methods.ZSTD_createDCtx();
        _nativeCompression = CreateCompressionContext();
        _nativeDecompression = CreateDecompressionContext();

        var managedLength = ManagedCompress();
        if (!ManagedDecompress() || NativeDecompress() != Size || !_output.AsSpan().SequenceEqual(_source))
        {
            throw new InvalidOperationException("a codec failed to round-trip the block");
        }

        _ = NativeCompress();
        Console.WriteLine($"// size={Size} native={_compressedLength} managed={managedLength} ratio={Size / (double)_compressedLength:F2}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ = Methods.ZSTD_freeCCtx(_managedCompression);
        _ = Methods.ZSTD_freeDCtx(_managedDecompression);
        _ = FreeCompressionContext(_nativeCompression);
        _ = FreeDecompressionContext(_nativeDecompression);
    }

    [Benchmark]
    public int ManagedCompress() => BlockCompressor.Compress(CompressionCodec.Zstd, _source, _compressed, Level);

    [Benchmark(Baseline = true)]
    public int NativeCompress()
    {
        fixed (byte* src = _source)
        fixed (byte* dst = _compressed)
        {
            return (int)Compress(dst, (nuint)_compressed.Length, src, (nuint)_source.Length, Level);
        }
    }

    [Benchmark]
    public int ManagedCompressReusedContext()
    {
        fixed (byte* src = _source)
        fixed (byte* dst = _compressed)
        {
            return (int)Methods.ZSTD_compressCCtx(_managedCompression, dst, (nuint)_compressed.Length, src, (nuint)_source.Length, Level);
        }
    }

    [Benchmark]
    public int NativeCompressReusedContext()
    {
        fixed (byte* src = _source)
        fixed (byte* dst = _compressed)
        {
            return (int)CompressWithContext(_nativeCompression, dst, (nuint)_compressed.Length, src, (nuint)_source.Length, Level);
        }
    }

    [Benchmark]
    public bool ManagedDecompress() => BlockCompressor.TryDecompress(CompressionCodec.Zstd, _compressed.AsSpan(0, _compressedLength), _output);

    [Benchmark]
    public int NativeDecompress()
    {
        fixed (byte* src = _compressed)
        fixed (byte* dst = _output)
        {
            return (int)Decompress(dst, (nuint)_output.Length, src, (nuint)_compressedLength);
        }
    }

    [Benchmark]
    public int ManagedDecompressReusedContext()
    {
        fixed (byte* src = _compressed)
        fixed (byte* dst = _output)
        {
            return (int)Methods.ZSTD_decompressDCtx(_managedDecompression, dst, (nuint)_output.Length, src, (nuint)_compressedLength);
        }
    }

    [Benchmark]
    public int NativeDecompressReusedContext()
    {
        fixed (byte* src = _compressed)
        fixed (byte* dst = _output)
        {
            return (int)DecompressWithContext(_nativeDecompression, dst, (nuint)_output.Length, src, (nuint)_compressedLength);
        }
    }

    [LibraryImport("libzstd.so.1", EntryPoint = "ZSTD_compress")]
    private static partial nuint Compress(byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize, int level);

    [LibraryImport("libzstd.so.1", EntryPoint = "ZSTD_decompress")]
    private static partial nuint Decompress(byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize);

    [LibraryImport("libzstd.so.1", EntryPoint = "ZSTD_createCCtx")]
    private static partial nint CreateCompressionContext();

    [LibraryImport("libzstd.so.1", EntryPoint = "ZSTD_freeCCtx")]
    private static partial nuint FreeCompressionContext(nint context);

    [LibraryImport("libzstd.so.1", EntryPoint = "ZSTD_compressCCtx")]
    private static partial nuint CompressWithContext(nint context, byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize, int level);

    [LibraryImport("libzstd.so.1", EntryPoint = "ZSTD_createDCtx")]
    private static partial nint CreateDecompressionContext();

    [LibraryImport("libzstd.so.1", EntryPoint = "ZSTD_freeDCtx")]
    private static partial nuint FreeDecompressionContext(nint context);

    [LibraryImport("libzstd.so.1", EntryPoint = "ZSTD_decompressDCtx")]
    private static partial nuint DecompressWithContext(nint context, byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize);
}
