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

    [Test]
    public void Pages_verify_on_their_own_and_a_flipped_bit_fails_only_the_pages_that_hold_it()
    {
        var data = Enumerable.Range(0, (2 * ChunkFile.PageSize) + 1000).Select(i => (byte)(i * 31)).ToArray();
        var file = ChunkFile.Encode(Header, data);
        var dataStart = ChunkFile.DataStart(Header.Key, Header.Version, data.Length);
        Assert.That(file, Has.Length.EqualTo(dataStart + data.Length));
        var head = file.AsSpan(0, dataStart).ToArray();
        Assert.That(ChunkFile.TryDecodeHeader(head, out var start, out var length), Is.EqualTo(Header));
        Assert.That((start, length), Is.EqualTo((dataStart, data.Length)));

        Assert.That(ChunkFile.TryVerifyPages(head, 0, data), Is.True, "every page");
        Assert.That(ChunkFile.TryVerifyPages(head, 1, data.AsSpan(ChunkFile.PageSize)), Is.True, "the second page and the short last one");
        Assert.That(ChunkFile.TryVerifyPages(head, 2, data.AsSpan(2 * ChunkFile.PageSize)), Is.True, "the short last page alone");
        Assert.That(ChunkFile.TryVerifyPages(head, 0, data.AsSpan(0, ChunkFile.PageSize)), Is.True, "the first page alone");
        Assert.That(ChunkFile.TryVerifyPages(head, 0, data.AsSpan(0, 100)), Is.False, "part of a page");
        Assert.That(ChunkFile.TryVerifyPages(head, 1, data), Is.False, "more bytes than the pages from there hold");
        Assert.That(ChunkFile.TryVerifyPages(head, 3, []), Is.False, "past the last page");

        var flipped = (byte[])data.Clone();
        flipped[ChunkFile.PageSize + 7] ^= 1;
        Assert.That(ChunkFile.TryVerifyPages(head, 1, flipped.AsSpan(ChunkFile.PageSize, ChunkFile.PageSize)), Is.False, "the page with the flipped bit");
        Assert.That(ChunkFile.TryVerifyPages(head, 0, flipped.AsSpan(0, ChunkFile.PageSize)), Is.True, "a page without it");
        Assert.That(ChunkFile.TryVerifyPages(head, 2, flipped.AsSpan(2 * ChunkFile.PageSize)), Is.True, "another page without it");
    }

    [Test]
    public void A_header_read_without_its_page_table_or_with_a_flipped_bit_is_refused()
    {
        var file = ChunkFile.Encode(Header, new byte[ChunkFile.PageSize + 1]);
        var dataStart = ChunkFile.DataStart(Header.Key, Header.Version, ChunkFile.PageSize + 1);
        Assert.That(ChunkFile.TryDecodeHeader(file.AsSpan(0, dataStart - 1), out _, out _), Is.Null, "one byte short of the header checksum");
        for (var bit = 0; bit < dataStart * 8; bit++)
        {
            var flipped = file.AsSpan(0, dataStart).ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            var header = ChunkFile.TryDecodeHeader(flipped, out _, out _);
            Assert.That(header is null || !ChunkFile.TryVerifyPages(flipped, 0, file.AsSpan(dataStart)), Is.True, $"bit {bit}");
        }
    }
}
