using System.Buffers.Binary;
using System.Text;
using SlateSharp.Format;

namespace SlateSharp.Storage.Caching;

/// <summary>What a chunk file says about the object it was cut from.</summary>
/// <param name="Key">The object's cache key (store location and path), checked against the key asked for.</param>
/// <param name="Offset">Where in the object the chunk's bytes start (its number times the chunk size it was cut with):
/// a file cut with another chunk size is never taken for this one.</param>
/// <param name="ObjectSize">The whole object's size.</param>
/// <param name="Version">The object's version token when the chunk was fetched.</param>
/// <param name="LastModified">The object's stored time, as the store reported it.</param>
internal sealed record ChunkHeader(string Key, long Offset, long ObjectSize, string Version, DateTimeOffset LastModified);

/// <summary>
/// Encodes and decodes one cached chunk file (docs/format/disk-cache-chunk.md, version 2): a header naming the object
/// and the chunk, a CRC-32C of every 4 KiB page of the bytes, a CRC-32C of all that, then the bytes. So a read of a
/// few pages reads and checks those pages and the header, not the whole chunk (<see cref="TryVerifyPages"/>). A file
/// that is short, has the wrong magic or version, or fails a checksum decodes as null: the cache treats it as a miss
/// and deletes it, never serves it.
/// </summary>
internal static class ChunkFile
{
    public const uint Magic = 0x43445353; // "SSDC" little-endian
    public const ushort FormatVersion = 2;
    public const int FixedHeaderLength = 40;
    public const int ChecksumLength = 4;

    /// <summary>The bytes each page checksum covers; a read is widened to whole pages.</summary>
    public const int PageSize = 4096;

    private const int PageShift = 12;

    /// <summary>The pages of <paramref name="dataLength"/> bytes (the last may be shorter).</summary>
    public static int PageCount(int dataLength) => (int)(((long)dataLength + PageSize - 1) >> PageShift);

    /// <summary>Where the bytes start: the header, its page table and its checksum before them.</summary>
    public static int DataStart(int keyBytes, int versionBytes, int dataLength) =>
        FixedHeaderLength + keyBytes + versionBytes + (PageCount(dataLength) * ChecksumLength) + ChecksumLength;

    /// <summary><see cref="DataStart(int, int, int)"/> for the chunk a header describes, the key and version as UTF-8.</summary>
    public static int DataStart(string key, string version, int dataLength) =>
        DataStart(Encoding.UTF8.GetByteCount(key), Encoding.UTF8.GetByteCount(version), dataLength);

    /// <summary>
    /// From a file's first <see cref="FixedHeaderLength"/> bytes, how long its head (header, page table and header
    /// checksum) is if they are what they say; the checksum is checked once the head is read (<see cref="TryDecodeHeader"/>).
    /// </summary>
    public static int HeadLength(ReadOnlySpan<byte> fixedHeader) =>
        fixedHeader.Length < FixedHeaderLength || BinaryPrimitives.ReadInt32LittleEndian(fixedHeader[12..]) < 0
            ? FixedHeaderLength
            : DataStart(BinaryPrimitives.ReadUInt16LittleEndian(fixedHeader[6..]), BinaryPrimitives.ReadUInt16LittleEndian(fixedHeader[8..]), BinaryPrimitives.ReadInt32LittleEndian(fixedHeader[12..]));

    public static byte[] Encode(ChunkHeader header, ReadOnlySpan<byte> data)
    {
        var key = Encoding.UTF8.GetBytes(header.Key);
        var version = Encoding.UTF8.GetBytes(header.Version);
        if (key.Length > ushort.MaxValue || version.Length > ushort.MaxValue)
        {
            throw Errors.Internal($"chunk header field too long (key_bytes={key.Length} version_bytes={version.Length})");
        }

        var dataStart = DataStart(key.Length, version.Length, data.Length);
        var file = new byte[dataStart + data.Length];
        var span = file.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], (ushort)key.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], (ushort)version.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], PageShift);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], data.Length);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], header.Offset);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], header.ObjectSize);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], header.LastModified.UtcTicks);
        key.CopyTo(span[FixedHeaderLength..]);
        version.CopyTo(span[(FixedHeaderLength + key.Length)..]);
        var table = span.Slice(FixedHeaderLength + key.Length + version.Length, PageCount(data.Length) * ChecksumLength);
        for (var page = 0; page < PageCount(data.Length); page++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(table[(page * ChecksumLength)..], Crc32C.Compute(PageOf(data, page)));
        }

        var headerEnd = dataStart - ChecksumLength;
        BinaryPrimitives.WriteUInt32LittleEndian(span[headerEnd..], Crc32C.Compute(span[..headerEnd]));
        data.CopyTo(span[dataStart..]);
        return file;
    }

    /// <summary>The header and the bytes of a chunk file, or null when the file is not a whole, intact chunk file.</summary>
    public static (ChunkHeader Header, ReadOnlyMemory<byte> Data)? TryDecode(ReadOnlyMemory<byte> file)
    {
        var span = file.Span;
        if (TryDecodeHeader(span, out var dataStart, out var dataLength) is not { } header || (long)dataStart + dataLength != span.Length)
        {
            return null;
        }

        if (dataLength > 0 && !TryVerifyPages(span[..dataStart], 0, span[dataStart..]))
        {
            return null;
        }

        return (header, file.Slice(dataStart, dataLength));
    }

    /// <summary>
    /// The header of a chunk file from its first bytes (at least up to its data start), checked against its checksum;
    /// null when they are not an intact version-2 header. <paramref name="dataStart"/> and <paramref name="dataLength"/>
    /// say where the bytes are.
    /// </summary>
    public static ChunkHeader? TryDecodeHeader(ReadOnlySpan<byte> head, out int dataStart, out int dataLength)
    {
        dataStart = 0;
        dataLength = 0;
        if (head.Length < FixedHeaderLength + ChecksumLength
            || BinaryPrimitives.ReadUInt32LittleEndian(head) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(head[4..]) != FormatVersion
            || BinaryPrimitives.ReadUInt16LittleEndian(head[10..]) != PageShift)
        {
            return null;
        }

        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(head[6..]);
        int versionLength = BinaryPrimitives.ReadUInt16LittleEndian(head[8..]);
        var length = BinaryPrimitives.ReadInt32LittleEndian(head[12..]);
        if (length < 0)
        {
            return null;
        }

        var start = DataStart(keyLength, versionLength, length);
        var headerEnd = start - ChecksumLength;
        if (head.Length < start || Crc32C.Compute(head[..headerEnd]) != BinaryPrimitives.ReadUInt32LittleEndian(head[headerEnd..]))
        {
            return null;
        }

        var offset = BinaryPrimitives.ReadInt64LittleEndian(head[16..]);
        var objectSize = BinaryPrimitives.ReadInt64LittleEndian(head[24..]);
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(head[32..]);
        if (offset < 0 || objectSize < 0 || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }

        var key = Encoding.UTF8.GetString(head.Slice(FixedHeaderLength, keyLength));
        var version = Encoding.UTF8.GetString(head.Slice(FixedHeaderLength + keyLength, versionLength));
        dataStart = start;
        dataLength = length;
        return new ChunkHeader(key, offset, objectSize, version, new DateTimeOffset(ticks, TimeSpan.Zero));
    }

    /// <summary>
    /// Whether <paramref name="pages"/>, the chunk's bytes from page <paramref name="firstPage"/> on (whole pages, the
    /// chunk's last page as long as it is), match the page checksums of <paramref name="head"/>, a header that
    /// <see cref="TryDecodeHeader"/> accepted.
    /// </summary>
    public static bool TryVerifyPages(ReadOnlySpan<byte> head, int firstPage, ReadOnlySpan<byte> pages)
    {
        var dataStart = HeadLength(head);
        if (dataStart == FixedHeaderLength || head.Length < dataStart || firstPage < 0)
        {
            return false;
        }

        var dataLength = BinaryPrimitives.ReadInt32LittleEndian(head[12..]);
        var count = PageCount(dataLength);
        var table = head[(dataStart - ChecksumLength - (count * ChecksumLength))..];
        var firstByte = (long)firstPage << PageShift;
        var end = Math.Min(dataLength, firstByte + pages.Length);
        if (firstPage >= count || end - firstByte != pages.Length || (end != dataLength && pages.Length % PageSize != 0))
        {
            return false;
        }

        for (var i = 0; (long)i * PageSize < pages.Length; i++)
        {
            if (Crc32C.Compute(PageOf(pages, i)) != BinaryPrimitives.ReadUInt32LittleEndian(table[((firstPage + i) * ChecksumLength)..]))
            {
                return false;
            }
        }

        return true;
    }

    private static ReadOnlySpan<byte> PageOf(ReadOnlySpan<byte> data, int page)
    {
        var start = page * PageSize;
        return data.Slice(start, Math.Min(PageSize, data.Length - start));
    }
}
