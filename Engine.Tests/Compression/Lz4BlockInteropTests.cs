using SlateSharp.Compression;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compression;

/// <summary>
/// The engine's LZ4 blocks come from the managed K4os.Compression.LZ4 since issue 12; SSTs written before came from
/// the system liblz4. Both directions must agree: blocks the managed codec writes decode with the reference library,
/// and blocks the reference library writes (every LZ4 SST written before the switch) decode with the managed codec.
/// </summary>
public sealed class Lz4BlockInteropTests
{
    [Test]
    public unsafe void Managed_and_native_lz4_blocks_decode_with_each_other([Values(1, 100, 4096, 65_536, 300_000)] int length)
    {
        var seed = TestSeeds.Get(77);
        var random = new Random(seed + length);
        var source = new byte[length];
        for (var i = 0; i < length; i++)
        {
            source[i] = (byte)(random.Next(3) == 0 ? random.Next(256) : 'a' + (i % 11));
        }

        var managed = new byte[BlockCompressor.MaxCompressedLength(CompressionCodec.Lz4, length)];
        var managedLength = BlockCompressor.Compress(CompressionCodec.Lz4, source, managed);
        var byNative = new byte[length];
        fixed (byte* src = managed)
        fixed (byte* dst = byNative)
        {
            Assert.That(NativeLz4.DecompressSafe(src, dst, managedLength, length), Is.EqualTo(length), $"seed={seed}");
        }

        Assert.That(byNative, Is.EqualTo(source), "liblz4 decodes the managed block");

        var native = new byte[NativeLz4.CompressBound(length)];
        int nativeLength;
        fixed (byte* src = source)
        fixed (byte* dst = native)
        {
            nativeLength = NativeLz4.CompressDefault(src, dst, length, native.Length);
        }

        var byManaged = new byte[length];
        Assert.That(BlockCompressor.TryDecompress(CompressionCodec.Lz4, native.AsSpan(0, nativeLength), byManaged), Is.True, $"seed={seed}");
        Assert.That(byManaged, Is.EqualTo(source), "the managed codec decodes liblz4's block");
    }
}
