using System.Runtime.InteropServices;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Bindings to the system liblz4 (block and frame APIs), for tests only: the engine compresses with the managed
/// K4os.Compression.LZ4, and these prove its blocks are the reference library's (and frame the lz4 tool's data).
/// </summary>
internal static unsafe partial class NativeLz4
{
    public const string Library = "liblz4.so.1";

    /// <summary>LZ4F_VERSION of the frame API.</summary>
    public const uint FrameVersion = 100;

    [LibraryImport(Library, EntryPoint = "LZ4_compressBound")]
    public static partial int CompressBound(int inputSize);

    [LibraryImport(Library, EntryPoint = "LZ4_compress_default")]
    public static partial int CompressDefault(byte* source, byte* destination, int sourceSize, int destinationCapacity);

    [LibraryImport(Library, EntryPoint = "LZ4_decompress_safe")]
    public static partial int DecompressSafe(byte* source, byte* destination, int compressedSize, int destinationCapacity);

    [LibraryImport(Library, EntryPoint = "LZ4F_compressFrameBound")]
    public static partial nuint CompressFrameBound(nuint sourceSize, void* preferences);

    [LibraryImport(Library, EntryPoint = "LZ4F_compressFrame")]
    public static partial nuint CompressFrame(byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize, void* preferences);

    [LibraryImport(Library, EntryPoint = "LZ4F_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Library, EntryPoint = "LZ4F_getErrorName")]
    public static partial byte* GetErrorName(nuint code);

    [LibraryImport(Library, EntryPoint = "LZ4F_createDecompressionContext")]
    public static partial nuint CreateDecompressionContext(nint* context, uint version);

    [LibraryImport(Library, EntryPoint = "LZ4F_freeDecompressionContext")]
    public static partial nuint FreeDecompressionContext(nint context);

    [LibraryImport(Library, EntryPoint = "LZ4F_decompress")]
    public static partial nuint Decompress(nint context, byte* destination, nuint* destinationSize, byte* source, nuint* sourceSize, void* options);

    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8((nint)GetErrorName(code)) ?? "unknown";
}
