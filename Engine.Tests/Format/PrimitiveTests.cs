using System.Text;
using SlateSharp.Format;

namespace SlateSharp.Tests.Format;

public sealed class PrimitiveTests
{
    [Test]
    public void Crc32C_matches_the_standard_check_value()
    {
        Assert.That(Crc32C.Compute("123456789"u8), Is.EqualTo(0xE3069283u));
        Assert.That(Crc32C.Compute([]), Is.EqualTo(0u));
        Assert.That(Crc32C.Compute("1234"u8, "56789"u8), Is.EqualTo(0xE3069283u));
    }

    [TestCase("", 0xEF46DB3751D8E999UL)]
    [TestCase("a", 0xD24EC4F1A98C6E5BUL)]
    [TestCase("abc", 0x44BC2CF5AD770999UL)]
    public void XxHash64_matches_reference_values(string text, ulong expected) =>
        Assert.That(XxHash64.Hash(Encoding.ASCII.GetBytes(text)), Is.EqualTo(expected));

    /// <summary>
    /// The library's XXH64 (System.IO.Hashing) gives what the hand-written one gave, for every length through each
    /// of its paths (tails of 0-7 bytes, 4-byte and 8-byte steps, 32-byte stripes), so bloom filters written before
    /// the switch are probed correctly after it.
    /// </summary>
    [Test]
    public void XxHash64_of_the_library_equals_the_hand_written_one_for_every_length()
    {
        var seed = TestSupport.TestSeeds.Get(64);
        var random = new Random(seed);
        for (var length = 0; length <= 300; length++)
        {
            for (var sample = 0; sample < 4; sample++)
            {
                var data = new byte[length];
                random.NextBytes(data);
                Assert.That(XxHash64.Hash(data), Is.EqualTo(TestSupport.ReferenceXxHash64.Hash(data)), $"seed={seed} length={length}");
            }
        }
    }

    [TestCase(0u)]
    [TestCase(127u)]
    [TestCase(128u)]
    [TestCase(16_383u)]
    [TestCase(16_384u)]
    [TestCase(uint.MaxValue)]
    public void Varint_round_trips(uint value)
    {
        var buffer = new byte[5];
        var written = Varint.Write(buffer, value);
        Assert.That(written, Is.EqualTo(Varint.Length(value)));
        var position = 0;
        Assert.That(Varint.TryRead(buffer, ref position, out var read), Is.True);
        Assert.That((read, position), Is.EqualTo((value, written)));
    }

    [Test]
    public void Varint_rejects_truncated_overlong_and_overflowing_input()
    {
        var position = 0;
        Assert.That(Varint.TryRead([0x80, 0x80], ref position, out _), Is.False);
        Assert.That(Varint.TryRead([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], ref position, out _), Is.False);
        Assert.That(Varint.TryRead([0xFF, 0xFF, 0xFF, 0xFF, 0x1F], ref position, out _), Is.False);
        Assert.That(position, Is.Zero);
    }

    [Test]
    public void Rows_sort_by_unsigned_key_then_newest_sequence_first()
    {
        var rows = new[]
        {
            RowEntry.Put(new byte[] { 0x80 }, default, 1),
            RowEntry.Put(new byte[] { 0x01, 0x00 }, default, 1),
            RowEntry.Put(new byte[] { 0x01 }, default, 5),
            RowEntry.Put(new byte[] { 0x01 }, default, 9),
        };
        Array.Sort(rows, KeyComparer.Instance);
        Assert.That(rows.Select(r => (Convert.ToHexString(r.Key.Span), r.Sequence)), Is.EqualTo(new[]
        {
            ("01", 9UL), ("01", 5UL), ("0100", 1UL), ("80", 1UL),
        }));
    }
}
