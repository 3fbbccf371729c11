using System.Runtime.InteropServices;

namespace SlateSharp.Compression;

/// <summary>
/// Loads a codec's native library on first use and turns a missing library into a clear
/// <see cref="ErrorKind.Invalid"/> error naming the library and the Debian package that provides it.
/// </summary>
internal sealed class NativeCodecLibrary
{
    private readonly string _codec;
    private readonly string _library;
    private readonly string _package;
    private int _state; // 0 unknown, 1 loaded, 2 missing

    public NativeCodecLibrary(string codec, string library, string package)
    {
        _codec = codec;
        _library = library;
        _package = package;
    }

    public static NativeCodecLibrary Zstd { get; } = new("zstd", ZstdNative.Library, "libzstd1");

    /// <summary>Throws unless the library can be loaded; cheap after the first call.</summary>
    public void EnsureAvailable()
    {
        var state = Volatile.Read(ref _state);
        if (state == 1)
        {
            return;
        }

        if (state == 0)
        {
            state = NativeLibrary.TryLoad(_library, typeof(NativeCodecLibrary).Assembly, null, out _) ? 1 : 2;
            Volatile.Write(ref _state, state);
            if (state == 1)
            {
                return;
            }
        }

        throw Errors.Invalid(
            $"compression codec {_codec} needs the native library {_library}, which could not be loaded; " +
            $"install the Debian package {_package} (apt-get install {_package}) (codec={_codec} library={_library})");
    }
}
