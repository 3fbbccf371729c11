namespace SlateSharp.Format;

/// <summary>
/// XXH64 (seed 0), the hash of the bloom filter, computed by System.IO.Hashing. It must never change for format
/// version 1: filters written with it are probed with it (a test checks the library against the hand-written
/// implementation the engine had before, and against zstd's frame checksum, the low 32 bits of XXH64).
/// </summary>
internal static class XxHash64
{
    /// <summary>The hash of <paramref name="data"/>.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data) => System.IO.Hashing.XxHash64.HashToUInt64(data);
}
