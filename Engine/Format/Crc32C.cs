using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace SlateSharp.Format;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every stored block and record. Inputs of at least
/// <see cref="LibraryThreshold"/> bytes go to System.IO.Hashing (it folds 64 bytes at a time with carry-less
/// multiplies and is 1.3–1.5× faster from 4 KiB up); shorter ones to the CRC32 instruction 8 bytes at a time, which is
/// 1.1–1.7× faster below 1 KiB (<c>Crc32CBenchmarks</c>, docs/benchmarks.md). Both give the same value.
/// </summary>
internal static class Crc32C
{
    /// <summary>Where the library starts to win: the two tie at 1 KiB.</summary>
    internal const int LibraryThreshold = 1024;

    /// <summary>The checksum of <paramref name="data"/> (initial value and final xor 0xFFFFFFFF, as in iSCSI).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) =>
        data.Length >= LibraryThreshold ? Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data) : ~Append(~0u, data);

    /// <summary>
    /// The checksum of the concatenation of two spans. Its callers (SST footer, WAL header) hash tens of bytes, so it
    /// stays on the instruction loop, which can carry the state from one span to the next.
    /// </summary>
    public static uint Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) => ~Append(Append(~0u, first), second);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
