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
/// Encodes and decodes one cached chunk file (docs/format/disk-cache-chunk.md): a header naming the object and the
/// chunk, the bytes, and a CRC-32C over everything before it. A file that is short, has the wrong magic or version,
/// or fails its checksum decodes as null: the cache treats it as a miss and deletes it, never serves it.
/// </summary>
internal static class ChunkFile
{
    public const uint Magic = 0x43445353; // "SSDC" little-endian
    public const ushort FormatVersion = 1;
    public const int FixedHeaderLength = 40;
    public const int ChecksumLength = 4;

    public static byte[] Encode(ChunkHeader header, ReadOnlySpan<byte> data)
    {
        var key = Encoding.UTF8.GetBytes(header.Key);
        var version = Encoding.UTF8.GetBytes(header.Version);
        if (key.Length > ushort.MaxValue || version.Length > ushort.MaxValue)
        {
            throw Errors.Internal($"chunk header field too long (key_bytes={key.Length} version_bytes={version.Length})");
        }

        var file = new byte[FixedHeaderLength + key.Length + version.Length + data.Length + ChecksumLength];
        var span = file.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], (ushort)key.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], (ushort)version.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], data.Length);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], header.Offset);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], header.ObjectSize);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], header.LastModified.UtcTicks);
        key.CopyTo(span[FixedHeaderLength..]);
        version.CopyTo(span[(FixedHeaderLength + key.Length)..]);
        data.CopyTo(span[(FixedHeaderLength + key.Length + version.Length)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[^ChecksumLength..], Crc32C.Compute(span[..^ChecksumLength]));
        return file;
    }

    /// <summary>The header and the bytes of a chunk file, or null when the file is not a whole, intact chunk file.</summary>
    public static (ChunkHeader Header, ReadOnlyMemory<byte> Data)? TryDecode(ReadOnlyMemory<byte> file)
    {
        var span = file.Span;
        if (span.Length < FixedHeaderLength + ChecksumLength
            || BinaryPrimitives.ReadUInt32LittleEndian(span) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(span[4..]) != FormatVersion)
        {
            return null;
        }

        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(span[6..]);
        int versionLength = BinaryPrimitives.ReadUInt16LittleEndian(span[8..]);
        var dataLength = BinaryPrimitives.ReadInt32LittleEndian(span[12..]);
        if (dataLength < 0 || (long)FixedHeaderLength + keyLength + versionLength + dataLength + ChecksumLength != span.Length
            || Crc32C.Compute(span[..^ChecksumLength]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^ChecksumLength..]))
        {
            return null;
        }

        var offset = BinaryPrimitives.ReadInt64LittleEndian(span[16..]);
        var objectSize = BinaryPrimitives.ReadInt64LittleEndian(span[24..]);
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(span[32..]);
        if (offset < 0 || objectSize < 0 || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }

        var key = Encoding.UTF8.GetString(span.Slice(FixedHeaderLength, keyLength));
        var version = Encoding.UTF8.GetString(span.Slice(FixedHeaderLength + keyLength, versionLength));
        var header = new ChunkHeader(key, offset, objectSize, version, new DateTimeOffset(ticks, TimeSpan.Zero));
        return (header, file.Slice(FixedHeaderLength + keyLength + versionLength, dataLength));
    }
}
