using K4os.Compression.LZ4;
using ZstdSharp.Unsafe;

namespace SlateSharp.Compression;

/// <summary>
/// Compresses and decompresses single blocks with the LZ4 block format (K4os.Compression.LZ4) or a Zstandard frame
/// (ZstdSharp.Port, a C# port of libzstd's sources): both managed, so no native library is needed. Callers own the
/// buffers (typically rented from the array pool); nothing here allocates managed memory (zstd's one-shot calls
/// allocate and free their context in native memory, as libzstd's do).
/// </summary>
internal static unsafe class BlockCompressor
{
    /// <summary>The Zstandard level used unless the options say otherwise.</summary>
    public const int DefaultZstdLevel = 3;

    /// <summary>ZSTD_CONTENTSIZE_ERROR.</summary>
    private const ulong ZstdContentSizeError = ulong.MaxValue - 1;

    /// <summary>The largest output <see cref="Compress"/> can produce for <paramref name="sourceLength"/> bytes.</summary>
    public static int MaxCompressedLength(CompressionCodec codec, int sourceLength)
    {
        switch (codec)
        {
            case CompressionCodec.None:
                return sourceLength;
            case CompressionCodec.Lz4:
                var lz4 = LZ4Codec.MaximumOutputSize(sourceLength);
                return lz4 > 0 ? lz4 : throw Errors.Internal($"lz4 cannot compress a block of {sourceLength} bytes");
            case CompressionCodec.Zstd:
                return checked((int)Methods.ZSTD_compressBound((nuint)sourceLength));
            default:
                throw UnknownCodec(codec);
        }
    }

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/>, which must hold
    /// <see cref="MaxCompressedLength"/> bytes, and returns the compressed length.
    /// </summary>
    public static int Compress(CompressionCodec codec, ReadOnlySpan<byte> source, Span<byte> destination, int zstdLevel = DefaultZstdLevel)
    {
        switch (codec)
        {
            case CompressionCodec.None:
                source.CopyTo(destination);
                return source.Length;
            case CompressionCodec.Lz4:
            {
                // The fast level is LZ4_compress_default's algorithm: the same block format the lz4 tool reads.
                var written = LZ4Codec.Encode(source, destination, LZ4Level.L00_FAST);
                return written > 0 || source.Length == 0 ? written : throw Errors.Internal($"lz4 compression failed (length={source.Length})");
            }

            case CompressionCodec.Zstd:
                fixed (byte* src = source)
                fixed (byte* dst = destination)
                {
                    var written = Methods.ZSTD_compress(dst, (nuint)destination.Length, src, (nuint)source.Length, zstdLevel);
                    return !Methods.ZSTD_isError(written)
                        ? (int)written
                        : throw Errors.Internal($"zstd compression failed: {Methods.ZSTD_getErrorName(written)} (length={source.Length})");
                }

            default:
                throw UnknownCodec(codec);
        }
    }

    /// <summary>
    /// True when <paramref name="rawLength"/> bytes could come from the <paramref name="compressed"/>
    /// bytes; decoders check this before allocating the output.
    /// </summary>
    public static bool IsPlausible(CompressionCodec codec, ReadOnlySpan<byte> compressed, int rawLength) => codec switch
    {
        CompressionCodec.None => compressed.Length == rawLength,

        // An LZ4 sequence expands at most about 255-fold.
        CompressionCodec.Lz4 => compressed.Length > 0 && rawLength <= (compressed.Length * 255L) + 16,
        CompressionCodec.Zstd => ZstdContentSize(compressed) == (ulong)rawLength,
        _ => false,
    };

    /// <summary>
    /// Decompresses <paramref name="source"/> into exactly <paramref name="destination"/>; false when the input is
    /// not a valid compressed block of that length.
    /// </summary>
    public static bool TryDecompress(CompressionCodec codec, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        switch (codec)
        {
            case CompressionCodec.None:
                if (source.Length != destination.Length)
                {
                    return false;
                }

                source.CopyTo(destination);
                return true;
            case CompressionCodec.Lz4:
                // Decode checks every offset and length against both buffers (the safe decoder) and returns -1 on
                // malformed input.
                return source.Length > 0 && LZ4Codec.Decode(source, destination) == destination.Length;

            case CompressionCodec.Zstd:
                if (source.Length == 0)
                {
                    return false;
                }

                fixed (byte* src = source)
                fixed (byte* dst = destination)
                {
                    var result = Methods.ZSTD_decompress(dst, (nuint)destination.Length, src, (nuint)source.Length);
                    return !Methods.ZSTD_isError(result) && result == (nuint)destination.Length;
                }

            default:
                return false;
        }
    }

    private static ulong ZstdContentSize(ReadOnlySpan<byte> frame)
    {
        if (frame.Length == 0)
        {
            return ZstdContentSizeError;
        }

        fixed (byte* src = frame)
        {
            return Methods.ZSTD_getFrameContentSize(src, (nuint)frame.Length);
        }
    }

    private static SlateSharpException UnknownCodec(CompressionCodec codec) =>
        Errors.Invalid($"unknown compression codec (codec={(int)codec})");
}
