using SlateSharp.Storage.Caching;

namespace SlateSharp.Tests.Storage.Caching;

public sealed class ChunkFileTests
{
    private static readonly ChunkHeader Header = new("s3://bucket/db|compacted/01J.sst", 65536, 200_000, "\"etag-1\"", new DateTimeOffset(2026, 12, 1, 17, 0, 0, TimeSpan.Zero));

    [Test]
    public void Round_trips_the_header_and_the_bytes()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var decoded = ChunkFile.TryDecode(ChunkFile.Encode(Header, data));
        Assert.That(decoded, Is.Not.Null);
        Assert.That(decoded!.Value.Header, Is.EqualTo(Header));
        Assert.That(decoded.Value.Data.ToArray(), Is.EqualTo(data));
    }

    [Test]
    public void Every_truncation_and_every_flipped_bit_decodes_as_null()
    {
        var file = ChunkFile.Encode(Header, new byte[300]);
        for (var length = 0; length < file.Length; length++)
        {
            Assert.That(ChunkFile.TryDecode(file.AsMemory(0, length)), Is.Null, $"truncated to {length}");
        }

        for (var bit = 0; bit < file.Length * 8; bit++)
        {
            var flipped = (byte[])file.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.That(ChunkFile.TryDecode(flipped), Is.Null, $"bit {bit}");
        }

        Assert.That(ChunkFile.TryDecode(file.Concat(new byte[] { 0 }).ToArray()), Is.Null, "a trailing byte");
    }
}
