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

    /// <summary>
    /// Random bytes, and valid blocks with a few bytes overwritten, decompressed into a slice of a larger buffer: the
    /// bytes around the slice are never touched; random bytes almost never decompress; whenever a call reports
    /// success it has written every byte of the slice (two runs over slices pre-filled differently agree).
    /// </summary>
    [Test]
    public void Garbage_does_not_decompress([Values(CompressionCodec.Lz4, CompressionCodec.Zstd)] CompressionCodec codec)
    {
        const int cases = 1000;
        var seed = TestSeeds.Get(82);
        var random = new Random(seed);
        var raw = new byte[3000];
        for (var i = 0; i < raw.Length; i++)
        {
            raw[i] = (byte)(random.Next(8) == 0 ? random.Next(256) : 'a' + (i % 5));
        }

        var buffer = new byte[BlockCompressor.MaxCompressedLength(codec, raw.Length)];
        var valid = buffer.AsSpan(0, BlockCompressor.Compress(codec, raw, buffer)).ToArray();
        int randomDecoded = 0, damagedDecoded = 0;
        for (var i = 0; i < cases; i++)
        {
            var damaged = i % 2 == 1;
            byte[] input;
            int outputLength;
            if (damaged)
            {
                input = valid.ToArray();
                for (var n = random.Next(1, 4); n > 0; n--)
                {
                    input[random.Next(input.Length)] ^= (byte)random.Next(1, 256);
                }

                outputLength = raw.Length;
            }
            else
            {
                input = new byte[random.Next(1, 400)];
                random.NextBytes(input);
                outputLength = random.Next(1, 4000);
            }

            var what = $"seed={seed} case={i} damaged={damaged} input={input.Length} output={outputLength}";
            if (!Decompress(codec, input, outputLength, 0x00, what, out var first))
            {
                continue;
            }

            Assert.That(Decompress(codec, input, outputLength, 0xFF, what, out var second), Is.True, $"{what}: the same input decompresses again");
            Assert.That(second, Is.EqualTo(first), $"{what}: a successful decompression writes every byte of its output");
            if (damaged)
            {
                damagedDecoded++;
            }
            else
            {
                randomDecoded++;
            }
        }

        TestContext.Out.WriteLine($"{codec}: random inputs decoded {randomDecoded}/{cases / 2}, damaged blocks decoded {damagedDecoded}/{cases / 2}");
        Assert.That(randomDecoded, Is.LessThanOrEqualTo(cases / 2 / 100), $"seed={seed}: random bytes almost never decompress");
        Assert.That(damagedDecoded, Is.LessThan(cases / 2), $"seed={seed}: the decoder rejects some damaged blocks");
    }

    /// <summary>Decompresses into a slice pre-filled with <paramref name="fill"/> between guard bytes, and checks the guards.</summary>
    private static bool Decompress(CompressionCodec codec, byte[] input, int length, byte fill, string what, out byte[] output)
    {
        const int guard = 64;
        const byte guardByte = 0xA5;
        var buffer = new byte[guard + length + guard];
        buffer.AsSpan().Fill(guardByte);
        buffer.AsSpan(guard, length).Fill(fill);

        var decoded = BlockCompressor.TryDecompress(codec, input, buffer.AsSpan(guard, length));

        Assert.That(buffer.AsSpan(0, guard).IndexOfAnyExcept(guardByte), Is.EqualTo(-1), $"{what}: wrote before the output");
        Assert.That(buffer.AsSpan(guard + length).IndexOfAnyExcept(guardByte), Is.EqualTo(-1), $"{what}: wrote after the output");
        output = buffer[guard..(guard + length)];
        return decoded;
    }

    [Test]
    public void The_none_codec_copies_the_block()
    {
        var data = new byte[] { 1, 2, 3 };
        var output = new byte[3];
        Assert.That(BlockCompressor.Compress(CompressionCodec.None, data, output), Is.EqualTo(3));
        Assert.That(output, Is.EqualTo(data));
    }
}
