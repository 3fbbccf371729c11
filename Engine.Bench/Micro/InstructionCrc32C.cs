using System.Buffers.Binary;
using System.Numerics;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// CRC-32C as <c>Format/Crc32C</c> computed it before issue 12: <c>BitOperations.Crc32C</c> over 8 bytes at a time,
/// then the tail byte by byte. Kept here as the baseline of <see cref="Crc32CBenchmarks"/>.
/// </summary>
internal static class InstructionCrc32C
{
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = ~0u;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
