namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// The LZ4 frame format (what the <c>lz4</c> command line tool reads and writes) through the system liblz4, for the
/// interoperability tests. SSTs use the block format.
/// </summary>
internal static unsafe class NativeLz4Frame
{
    /// <summary>Compresses <paramref name="source"/> into one frame with default preferences.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> source)
    {
        var bound = NativeLz4.CompressFrameBound((nuint)source.Length, null);
        var output = new byte[checked((int)bound)];
        fixed (byte* src = source)
        fixed (byte* dst = output)
        {
            var written = NativeLz4.CompressFrame(dst, bound, src, (nuint)source.Length, null);
            if (NativeLz4.IsError(written) != 0)
            {
                throw Errors.Internal($"lz4 frame compression failed: {NativeLz4.ErrorName(written)}");
            }

            return output.AsSpan(0, (int)written).ToArray();
        }
    }

    /// <summary>
    /// Decompresses one complete frame. Throws a <see cref="ErrorKind.Data"/> error naming <paramref name="name"/> when
    /// the frame is invalid, truncated, followed by extra bytes, or would exceed <paramref name="maxOutputLength"/>.
    /// </summary>
    public static byte[] Decompress(ReadOnlySpan<byte> frame, int maxOutputLength, string name = "lz4 frame")
    {
        nint context;
        var created = NativeLz4.CreateDecompressionContext(&context, NativeLz4.FrameVersion);
        if (NativeLz4.IsError(created) != 0)
        {
            throw Errors.Internal($"lz4 frame context creation failed: {NativeLz4.ErrorName(created)}");
        }

        using var output = new SlateSharp.Format.PooledBufferWriter(Math.Min(maxOutputLength, Math.Max(1024, frame.Length * 4)) + 1);
        try
        {
            var consumedTotal = 0;
            fixed (byte* src = frame)
            {
                while (true)
                {
                    var room = Math.Max(1, Math.Min(64 << 10, maxOutputLength - output.WrittenCount + 1));
                    var span = output.GetSpan(room);
                    var sourceSize = (nuint)(frame.Length - consumedTotal);
                    var destinationSize = (nuint)span.Length;
                    nuint hint;
                    fixed (byte* dst = span)
                    {
                        hint = NativeLz4.Decompress(context, dst, &destinationSize, src + consumedTotal, &sourceSize, null);
                    }

                    if (NativeLz4.IsError(hint) != 0)
                    {
                        throw Errors.Data(name, consumedTotal, $"invalid lz4 frame: {NativeLz4.ErrorName(hint)}");
                    }

                    consumedTotal += (int)sourceSize;
                    output.Advance((int)destinationSize);
                    if (output.WrittenCount > maxOutputLength)
                    {
                        throw Errors.Data(name, consumedTotal, $"lz4 frame decompresses to more than {maxOutputLength} bytes");
                    }

                    if (hint == 0)
                    {
                        break;
                    }

                    if (sourceSize == 0 && destinationSize == 0)
                    {
                        throw Errors.Data(name, consumedTotal, "truncated lz4 frame");
                    }
                }
            }

            if (consumedTotal != frame.Length)
            {
                throw Errors.Data(name, consumedTotal, "unexpected bytes after the lz4 frame");
            }

            return output.WrittenSpan.ToArray();
        }
        finally
        {
            _ = NativeLz4.FreeDecompressionContext(context);
        }
    }
}
