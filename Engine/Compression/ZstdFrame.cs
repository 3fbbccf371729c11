using ZstdSharp.Unsafe;

namespace SlateSharp.Compression;

/// <summary>
/// Zstandard frames with a content checksum (what the <c>zstd</c> command line tool reads and writes), through
/// ZstdSharp.Port, for interoperability checks and tools. SST blocks use single-shot frames through <see cref="BlockCompressor"/>.
/// </summary>
internal static unsafe class ZstdFrame
{
    /// <summary>Compresses <paramref name="source"/> into one frame that records its size and an XXH64 checksum.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> source, int level = BlockCompressor.DefaultZstdLevel)
    {
        var context = Methods.ZSTD_createCCtx();
        if (context == null)
        {
            throw Errors.Internal("zstd compression context creation failed");
        }

        try
        {
            Check(Methods.ZSTD_CCtx_setParameter(context, ZSTD_cParameter.ZSTD_c_compressionLevel, level));
            Check(Methods.ZSTD_CCtx_setParameter(context, ZSTD_cParameter.ZSTD_c_checksumFlag, 1));
            var bound = Methods.ZSTD_compressBound((nuint)source.Length);
            var output = new byte[checked((int)bound)];
            fixed (byte* src = source)
            fixed (byte* dst = output)
            {
                var written = Check(Methods.ZSTD_compress2(context, dst, bound, src, (nuint)source.Length));
                return output.AsSpan(0, (int)written).ToArray();
            }
        }
        finally
        {
            _ = Methods.ZSTD_freeCCtx(context);
        }
    }

    /// <summary>
    /// Decompresses one complete frame, with or without a recorded size. Throws a <see cref="ErrorKind.Data"/> error
    /// naming <paramref name="name"/> when it is invalid, truncated, followed by extra bytes, or would exceed
    /// <paramref name="maxOutputLength"/>.
    /// </summary>
    public static byte[] Decompress(ReadOnlySpan<byte> frame, int maxOutputLength, string name = "zstd frame")
    {
        var context = Methods.ZSTD_createDCtx();
        if (context == null)
        {
            throw Errors.Internal("zstd decompression context creation failed");
        }

        using var output = new Format.PooledBufferWriter(Math.Min(maxOutputLength, Math.Max(1024, frame.Length * 4)) + 1);
        try
        {
            fixed (byte* src = frame)
            {
                var input = new ZSTD_inBuffer_s { src = src, size = (nuint)frame.Length, pos = 0 };
                while (true)
                {
                    var room = Math.Max(1, Math.Min(128 << 10, maxOutputLength - output.WrittenCount + 1));
                    var span = output.GetSpan(room);
                    nuint result;
                    nuint produced;
                    fixed (byte* dst = span)
                    {
                        var buffer = new ZSTD_outBuffer_s { dst = dst, size = (nuint)span.Length, pos = 0 };
                        result = Methods.ZSTD_decompressStream(context, &buffer, &input);
                        produced = buffer.pos;
                    }

                    if (Methods.ZSTD_isError(result))
                    {
                        throw Errors.Data(name, (long)input.pos, $"invalid zstd frame: {Methods.ZSTD_getErrorName(result)}");
                    }

                    output.Advance((int)produced);
                    if (output.WrittenCount > maxOutputLength)
                    {
                        throw Errors.Data(name, (long)input.pos, $"zstd frame decompresses to more than {maxOutputLength} bytes");
                    }

                    if (result == 0)
                    {
                        break;
                    }

                    if (input.pos == input.size && produced == 0)
                    {
                        throw Errors.Data(name, (long)input.pos, "truncated zstd frame");
                    }
                }

                if (input.pos != input.size)
                {
                    throw Errors.Data(name, (long)input.pos, "unexpected bytes after the zstd frame");
                }
            }

            return output.WrittenSpan.ToArray();
        }
        finally
        {
            _ = Methods.ZSTD_freeDCtx(context);
        }
    }

    private static nuint Check(nuint result) =>
        !Methods.ZSTD_isError(result) ? result : throw Errors.Internal($"zstd frame compression failed: {Methods.ZSTD_getErrorName(result)}");
}
