using System.Buffers.Binary;
using SlateSharp.Format;

namespace SlateSharp.Leases;

/// <summary>
/// The 44-byte lease object (docs/format/lease.md): magic "SLLS", format version u16, reserved u16, reader id (16
/// bytes, big-endian GUID), manifest id u64, expires-at i64 (Unix ms), CRC32C of everything before it. Little-endian.
/// </summary>
internal static class ReaderLeaseCodec
{
    public const uint Magic = 0x534C4C53; // "SLLS" read as a little-endian u32
    public const ushort CurrentVersion = 1;
    public const int Length = 4 + 2 + 2 + 16 + 8 + 8 + 4;

    public static byte[] Encode(ReaderLease lease)
    {
        var bytes = new byte[Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), CurrentVersion);
        if (!lease.Id.TryWriteBytes(bytes.AsSpan(8), bigEndian: true, out _))
        {
            throw Errors.Internal("lease id does not fit 16 bytes");
        }

        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), lease.ManifestId);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(32), lease.ExpiresAt);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), Crc32C.Compute(bytes.AsSpan(0, 40)));
        return bytes;
    }

    /// <summary>Decodes a lease read from <paramref name="path"/>; anything else is a Data error naming it.</summary>
    public static ReaderLease Decode(ReadOnlySpan<byte> data, string path)
    {
        var reader = new SpanReader(data, path, 0, "lease");
        var magic = reader.ReadU32();
        reader.Require(magic == Magic, $"not a reader lease: bad magic (found={magic:x8} expected={Magic:x8})");
        var version = reader.ReadU16();
        if (version != CurrentVersion)
        {
            throw Errors.Data(path, 4, $"unsupported lease format version {version}; this build reads version {CurrentVersion}");
        }

        reader.Require(data.Length == Length, $"a lease is {Length} bytes (found={data.Length})");
        reader.Require(reader.ReadU16() == 0, "reserved header field is not zero");
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(data[40..]);
        var actual = Crc32C.Compute(data[..40]);
        if (expected != actual)
        {
            throw Errors.Data(path, 40, $"lease checksum mismatch (expected={expected:x8} actual={actual:x8})");
        }

        var id = new Guid(reader.Take(16), bigEndian: true);
        return new ReaderLease(id, reader.ReadU64(), reader.ReadI64());
    }
}
