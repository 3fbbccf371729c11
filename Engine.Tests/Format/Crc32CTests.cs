using System.IO.Hashing;
using SlateSharp.Format;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Format;

/// <summary>
/// <see cref="Crc32C"/> sends long inputs to System.IO.Hashing and short ones to the CRC32 instruction; every checksum
/// already stored was made by the instruction loop. These show that the engine, the library and an independent
/// table-driven reference agree on every length either side of the switch-over, at every alignment, and on large inputs.
/// </summary>
public sealed class Crc32CTests
{
    [Test]
    public void Engine_library_and_reference_agree_for_every_length_up_to_4_KiB_and_at_every_alignment()
    {
        var seed = TestSeeds.Get(32);
        var random = new Random(seed);
        var buffer = new byte[4200 + 16];
        for (var length = 0; length <= 4200; length++)
        {
            random.NextBytes(buffer);
            var offset = random.Next(16);
            var data = buffer.AsSpan(offset, length);
            var expected = ReferenceCrc32C.Compute(data);
            var what = $"seed={seed} length={length} offset={offset}";
            Assert.That(Crc32C.Compute(data), Is.EqualTo(expected), what);
            Assert.That(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data), Is.EqualTo(expected), $"{what}: the library");
        }
    }

    [Test]
    public void Engine_library_and_reference_agree_on_large_inputs([Values(65_535, 65_536, 65_537, 1 << 20, (1 << 20) + 13)] int length)
    {
        var seed = TestSeeds.Get(33);
        var random = new Random(seed + length);
        for (var sample = 0; sample < 3; sample++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            var expected = ReferenceCrc32C.Compute(data);
            Assert.That(Crc32C.Compute(data), Is.EqualTo(expected), $"seed={seed} length={length} sample={sample}");
            Assert.That(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data), Is.EqualTo(expected), $"seed={seed} length={length} sample={sample}: the library");
        }
    }

    [Test]
    public void Two_spans_hash_as_their_concatenation()
    {
        var seed = TestSeeds.Get(34);
        var random = new Random(seed);
        for (var i = 0; i < 500; i++)
        {
            var data = new byte[random.Next(0, 3 * Crc32C.LibraryThreshold)];
            random.NextBytes(data);
            var split = random.Next(data.Length + 1);
            Assert.That(Crc32C.Compute(data.AsSpan(0, split), data.AsSpan(split)), Is.EqualTo(ReferenceCrc32C.Compute(data)), $"seed={seed} case={i} length={data.Length} split={split}");
        }
    }

    [Test]
    public void The_reference_gives_the_standard_check_value() =>
        Assert.That(ReferenceCrc32C.Compute("123456789"u8), Is.EqualTo(0xE3069283u));
}
