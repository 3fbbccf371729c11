using SlateSharp.Compression;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compression;

/// <summary>
/// The engine's Zstandard blocks come from the managed ZstdSharp.Port since issue 12; SSTs written before came from
/// the system libzstd. Both directions must agree at every level the options allow: blocks the managed codec writes
/// decode with the reference library, and blocks the reference library writes (every Zstd SST written before the
/// switch) decode with the managed codec and pass its plausibility check.
/// </summary>
public sealed class ZstdBlockInteropTests
{
    [Test]
    public unsafe void Managed_and_native_zstd_blocks_decode_with_each_other(
        [Values(1, 100, 4096, 65_536, 300_000)] int length, [Values(1, 3, 9, 19)] int level)
    {
        var seed = TestSeeds.Get(78);
        var random = new Random(seed + length + level);
        var source = new byte[length];
        for (var i = 0; i < length; i++)
        {
            source[i] = (byte)(random.Next(3) == 0 ? random.Next(256) : 'a' + (i % 11));
        }

        var what = $"seed={seed} length={length} level={level} libzstd={NativeZstd.Version}";
        var managed = new byte[BlockCompressor.MaxCompressedLength(CompressionCodec.Zstd, length)];
        var managedLength = BlockCompressor.Compress(CompressionCodec.Zstd, source, managed, level);
        var byNative = new byte[length];
        fixed (byte* src = managed)
        fixed (byte* dst = byNative)
        {
            var result = NativeZstd.Decompress(dst, (nuint)length, src, (nuint)managedLength);
            Assert.That(NativeZstd.IsError(result), Is.Zero, what);
            Assert.That(result, Is.EqualTo((nuint)length), what);
        }

        Assert.That(byNative, Is.EqualTo(source), $"{what}: libzstd decodes the managed block");

        var native = new byte[(int)NativeZstd.CompressBound((nuint)length)];
        nuint nativeLength;
        fixed (byte* src = source)
        fixed (byte* dst = native)
        {
            nativeLength = NativeZstd.Compress(dst, (nuint)native.Length, src, (nuint)length, level);
        }

        Assert.That(NativeZstd.IsError(nativeLength), Is.Zero, what);
        var block = native.AsSpan(0, (int)nativeLength);
        Assert.That(BlockCompressor.IsPlausible(CompressionCodec.Zstd, block, length), Is.True, what);
        var byManaged = new byte[length];
        Assert.That(BlockCompressor.TryDecompress(CompressionCodec.Zstd, block, byManaged), Is.True, what);
        Assert.That(byManaged, Is.EqualTo(source), $"{what}: the managed codec decodes libzstd's block");
    }
}
