namespace SlateSharp.Compression;

/// <summary>
/// Zstandard frames with a content checksum (what the <c>zstd</c> command line tool reads and writes), for
/// interoperability checks and tools. SST blocks use single-shot frames through <see cref="BlockCompressor"/>.
/// </summary>
internal static unsafe class ZstdFrame
{
    /// <summary>Compresses <paramref name="source"/> into one frame that records its size and an XXH64 checksum.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> source, int level = BlockCompressor.DefaultZstdLevel)
    {
        NativeCodecLibrary.Zstd.EnsureAvailable();
        var context = ZstdNative.CreateCompressionContext();
        if (context == 0)
        {
            throw Errors.Internal("zstd compression context creation failed");
        }

        try
        {
            Check(ZstdNative.SetParameter(context, ZstdNative.ParameterCompressionLevel, level));
            Check(ZstdNative.SetParameter(context, ZstdNative.ParameterChecksumFlag, 1));
            var bound = ZstdNative.CompressBound((nuint)source.Length);
            var output = new byte[checked((int)bound)];
            fixed (byte* src = source)
            fixed (byte* dst = output)
            {
                var written = Check(ZstdNative.Compress2(context, dst, bound, src, (nuint)source.Length));
                return output.AsSpan(0, (int)written).ToArray();
            }
        }
        finally
        {
            _ = ZstdNative.FreeCompressionContext(context);
        }
    }

    /// <summary>
    /// Decompresses one complete frame, with or without a recorded size. Throws a <see cref="ErrorKind.Data"/> error
    /// naming <paramref name="name"/> when it is invalid, truncated, followed by extra bytes, or would exceed
    /// <paramref name="maxOutputLength"/>.
    /// </summary>
    public static byte[] Decompress(ReadOnlySpan<byte> frame, int maxOutputLength, string name = "zstd frame")
    {
        NativeCodecLibrary.Zstd.EnsureAvailable();
        var context = ZstdNative.CreateDecompressionContext();
        if (context == 0)
        {
            throw Errors.Internal("zstd decompression context creation failed");
        }

        using var output = new Format.PooledBufferWriter(Math.Min(maxOutputLength, Math.Max(1024, frame.Length * 4)) + 1);
        try
        {
            fixed (byte* src = frame)
            {
                var input = new ZstdNative.InputBuffer { Source = src, Size = (nuint)frame.Length, Position = 0 };
                while (true)
                {
                    var room = Math.Max(1, Math.Min(128 << 10, maxOutputLength - output.WrittenCount + 1));
                    var span = output.GetSpan(room);
                    nuint result;
                    nuint produced;
                    fixed (byte* dst = span)
                    {
                        var buffer = new ZstdNative.Buffer { Destination = dst, Size = (nuint)span.Length, Position = 0 };
                        result = ZstdNative.DecompressStream(context, &buffer, &input);
                        produced = buffer.Position;
                    }

                    if (ZstdNative.IsError(result) != 0)
                    {
                        throw Errors.Data(name, (long)input.Position, $"invalid zstd frame: {ZstdNative.ErrorName(result)}");
                    }

                    output.Advance((int)produced);
                    if (output.WrittenCount > maxOutputLength)
                    {
                        throw Errors.Data(name, (long)input.Position, $"zstd frame decompresses to more than {maxOutputLength} bytes");
                    }

                    if (result == 0)
                    {
                        break;
                    }

                    if (input.Position == input.Size && produced == 0)
                    {
                        throw Errors.Data(name, (long)input.Position, "truncated zstd frame");
                    }
                }

                if (input.Position != input.Size)
                {
                    throw Errors.Data(name, (long)input.Position, "unexpected bytes after the zstd frame");
                }
            }

            return output.WrittenSpan.ToArray();
        }
        finally
        {
            _ = ZstdNative.FreeDecompressionContext(context);
        }
    }

    private static nuint Check(nuint result) =>
        ZstdNative.IsError(result) == 0 ? result : throw Errors.Internal($"zstd frame compression failed: {ZstdNative.ErrorName(result)}");
}
