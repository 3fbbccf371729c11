using System.Buffers.Binary;
using System.Numerics;

namespace SlateSharp.Format;

/// <summary>CRC-32C (Castagnoli), the checksum of every stored block and record; hardware-accelerated where available.</summary>
internal static class Crc32C
{
    /// <summary>The checksum of <paramref name="data"/> (initial value and final xor 0xFFFFFFFF, as in iSCSI).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>The checksum of the concatenation of two spans.</summary>
    public static uint Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) => ~Append(Append(~0u, first), second);

    private static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
