using System.Runtime.InteropServices;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Bindings to the system libzstd (Debian libzstd1), for tests only: the engine compresses with the managed
/// ZstdSharp.Port since issue 12, and these prove its blocks are the reference library's and the other way round.
/// </summary>
internal static unsafe partial class NativeZstd
{
    public const string Library = "libzstd.so.1";

    [LibraryImport(Library, EntryPoint = "ZSTD_compressBound")]
    public static partial nuint CompressBound(nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_compress")]
    public static partial nuint Compress(byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize, int level);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompress")]
    public static partial nuint Decompress(byte* destination, nuint destinationCapacity, byte* source, nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_versionString")]
    public static partial byte* VersionString();

    public static string Version => Marshal.PtrToStringUTF8((nint)VersionString()) ?? "unknown";
}
