using System.Runtime.InteropServices;

namespace SlateSharp.Compression;

/// <summary>Bindings to the system libzstd. Call <see cref="NativeCodecLibrary.Zstd"/> first.</summary>
internal static unsafe partial class ZstdNative
{
    public const string Library = "libzstd.so.1";

    /// <summary>ZSTD_c_compressionLevel.</summary>
    public const int ParameterCompressionLevel = 100;

    /// <summary>ZSTD_c_checksumFlag.</summary>
    public const int ParameterChecksumFlag = 201;

    /// <summary>ZSTD_CONTENTSIZE_UNKNOWN.</summary>
    public const ulong ContentSizeUnknown = ulong.MaxValue;

    /// <summary>ZSTD_CONTENTSIZE_ERROR.</summary>
    public const ulong ContentSizeError = ulong.MaxValue - 1;

    [LibraryImport(Library, EntryPoint = "ZSTD_compressBound")]
    public static partial nuint CompressBound(nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_compress")]
    public static partial nuint Compress(byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize, int level);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompress")]
    public static partial nuint Decompress(byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_getFrameContentSize")]
    public static partial ulong GetFrameContentSize(byte* source, nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_getErrorName")]
    public static partial byte* GetErrorName(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_createCCtx")]
    public static partial nint CreateCompressionContext();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeCCtx")]
    public static partial nuint FreeCompressionContext(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_CCtx_setParameter")]
    public static partial nuint SetParameter(nint context, int parameter, int value);

    [LibraryImport(Library, EntryPoint = "ZSTD_compress2")]
    public static partial nuint Compress2(nint context, byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_createDCtx")]
    public static partial nint CreateDecompressionContext();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeDCtx")]
    public static partial nuint FreeDecompressionContext(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressStream")]
    public static partial nuint DecompressStream(nint context, Buffer* output, InputBuffer* input);

    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8((nint)GetErrorName(code)) ?? "unknown";

    /// <summary>ZSTD_outBuffer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Buffer
    {
        public byte* Destination;
        public nuint Size;
        public nuint Position;
    }

    /// <summary>ZSTD_inBuffer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct InputBuffer
    {
        public byte* Source;
        public nuint Size;
        public nuint Position;
    }
}
