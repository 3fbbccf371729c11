namespace SlateSharp.Format;

/// <summary>Unsigned LEB128 varints: seven bits per byte, low bits first, high bit set on every byte but the last.</summary>
internal static class Varint
{
    /// <summary>The most bytes a 32-bit varint takes.</summary>
    public const int MaxLength32 = 5;

    /// <summary>How many bytes <paramref name="value"/> takes.</summary>
    public static int Length(uint value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="destination"/> and returns the bytes written.</summary>
    public static int Write(Span<byte> destination, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>
    /// Reads a 32-bit varint at <paramref name="position"/>; returns false (leaving <paramref name="position"/>) when the
    /// input ends early, the encoding is longer than five bytes or the value overflows 32 bits.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> source, ref int position, out uint value)
    {
        // One byte (values below 128: most key and value lengths in a block) without the loop.
        if ((uint)position < (uint)source.Length && source[position] < 0x80)
        {
            value = source[position++];
            return true;
        }

        return TryReadLong(source, ref position, out value);
    }

    private static bool TryReadLong(ReadOnlySpan<byte> source, ref int position, out uint value)
    {
        value = 0;
        var p = position;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if ((uint)p >= (uint)source.Length)
            {
                return false;
            }

            uint b = source[p++];
            if (shift == 28 && b > 0x0F)
            {
                return false;
            }

            value |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                position = p;
                return true;
            }
        }

        return false;
    }
}
