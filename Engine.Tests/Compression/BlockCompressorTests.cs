using SlateSharp.Compression;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compression;

public sealed class BlockCompressorTests
{
    [Test]
    public void Blocks_round_trip([Values] CompressionCodec codec, [Values(0, 1, 100, 70_000)] int length)
    {
        var seed = TestSeeds.Get(81);
        var random = new Random(seed);
        var source = new byte[length];
        for (var i = 0; i < length; i++)
        {
            source[i] = (byte)(random.Next(4) == 0 ? random.Next(256) : i % 7);
        }

        var compressed = new byte[BlockCompressor.MaxCompressedLength(codec, length)];
        var compressedLength = BlockCompressor.Compress(codec, source, compressed);
        var restored = new byte[length];
        if (length == 0 && codec != CompressionCodec.None)
        {
            return;
        }

        Assert.That(BlockCompressor.IsPlausible(codec, compressed.AsSpan(0, compressedLength), length), Is.True);
        Assert.That(BlockCompressor.TryDecompress(codec, compressed.AsSpan(0, compressedLength), restored), Is.True, $"seed={seed}");
        Assert.That(restored, Is.EqualTo(source));
        Assert.That(BlockCompressor.TryDecompress(codec, compressed.AsSpan(0, compressedLength), new byte[length + 1]), Is.False, "the declared length must match exactly");
    }

    [Test]
    public void Garbage_does_not_decompress([Values(CompressionCodec.Lz4, CompressionCodec.Zstd)] CompressionCodec codec)
    {
        var random = new Random(TestSeeds.Get(82));
        var garbage = new byte[200];
        for (var i = 0; i < 1000; i++)
        {
            random.NextBytes(garbage);
            var output = new byte[random.Next(1, 4000)];
            if (BlockCompressor.IsPlausible(codec, garbage, output.Length))
            {
                // Whatever happens, the native call must stay within the buffers and report failure or success.
                _ = BlockCompressor.TryDecompress(codec, garbage, output);
            }
        }
    }

    [Test]
    public void A_missing_native_library_is_an_invalid_error_naming_the_library_and_package()
    {
        var library = new NativeCodecLibrary("lz4", "libslatesharp-missing.so.1", "liblz4-1");
        var error = Assert.Throws<SlateSharpException>(library.EnsureAvailable)!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("libslatesharp-missing.so.1").And.Contain("apt-get install liblz4-1"));
        Assert.Throws<SlateSharpException>(library.EnsureAvailable, "the failure is remembered and repeated");
    }

    [Test]
    public void The_none_codec_needs_no_native_library()
    {
        var data = new byte[] { 1, 2, 3 };
        var output = new byte[3];
        Assert.That(BlockCompressor.Compress(CompressionCodec.None, data, output), Is.EqualTo(3));
        Assert.That(output, Is.EqualTo(data));
    }
}
