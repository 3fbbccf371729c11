using System.Buffers.Binary;

namespace SlateSharp.Format;

/// <summary>
/// Decodes WAL objects (docs/format/wal.md); <see cref="WalObjectWriter"/> encodes them. A zero-byte object is a
/// fence; anything else is header, checksummed batch records, trailer. Every length is bounds-checked before use and
/// every failure is an <see cref="ErrorKind.Data"/> error naming the object and offset.
/// </summary>
internal static class WalObjectCodec
{
    /// <summary>The WAL object format version this build writes.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>The oldest version this build reads.</summary>
    public const ushort OldestReadableVersion = 1;

    /// <summary>"SLWL" read as a little-endian u32: the first four bytes of every non-fence WAL object.</summary>
    public const uint Magic = 0x4C574C53;

    public const int HeaderLength = 8;
    public const int TrailerLength = 8;

    /// <summary>Bytes before a batch payload: payload length u32, CRC32C u32.</summary>
    public const int BatchHeaderLength = 8;

    /// <summary>The largest batch record accepted (1 GiB).</summary>
    public const int MaxBatchLength = 1 << 30;

    /// <summary>Row flags: bits 0-1 the <see cref="RowKind"/>, bit 2 an expire time follows the sequence.</summary>
    public const byte HasExpireFlag = 0x04;

    private const int MinRowLength = 1 + 8 + 1 + 1 + 1;

    /// <summary>
    /// Decodes a WAL object read from <paramref name="path"/>. Rows alias <paramref name="data"/>, which must not
    /// change afterwards.
    /// </summary>
    public static WalObject Decode(ReadOnlyMemory<byte> data, string path)
    {
        if (data.IsEmpty)
        {
            return WalObject.Fence;
        }

        var span = data.Span;
        var header = new SpanReader(span, path, 0, "wal object");
        header.Require(span.Length >= HeaderLength + TrailerLength, $"too short for header and trailer (length={span.Length})");
        var magic = header.ReadU32();
        header.Require(magic == Magic, $"not a wal object: bad magic (found={magic:x8} expected={Magic:x8})");
        var version = header.ReadU16();
        if (version is < OldestReadableVersion or > CurrentVersion)
        {
            throw Errors.Data(path, 4, $"unsupported wal format version {version}; this build reads versions {OldestReadableVersion} to {CurrentVersion}");
        }

        header.Require(header.ReadU16() == 0, "reserved header field is not zero");
        var trailerOffset = span.Length - TrailerLength;
        var batchCount = BinaryPrimitives.ReadUInt32LittleEndian(span[trailerOffset..]);
        var expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(span[(trailerOffset + 4)..]);
        if (expectedCrc != TrailerChecksum(span[..HeaderLength], batchCount))
        {
            throw Errors.Data(path, trailerOffset, "wal object trailer checksum mismatch (truncated or corrupt object)");
        }

        var body = new SpanReader(span[HeaderLength..trailerOffset], path, HeaderLength, "wal object");
        body.Require(batchCount <= (uint)(body.Remaining / (BatchHeaderLength + 4 + MinRowLength)), $"batch count {batchCount} exceeds what the object can hold");
        var batches = new List<WalBatch>((int)batchCount);
        while (body.Remaining > 0)
        {
            var recordOffset = (int)body.AbsoluteOffset;
            var length = body.ReadU32();
            var crc = body.ReadU32();
            body.Require(length <= (uint)body.Remaining, $"batch record runs past the trailer (length={length} remaining={body.Remaining})");
            var payloadOffset = (int)body.AbsoluteOffset;
            var payload = body.Take((int)length);
            var actual = Crc32C.Compute(payload);
            if (actual != crc)
            {
                throw Errors.Data(path, recordOffset, $"wal batch checksum mismatch (batch={batches.Count} expected={crc:x8} actual={actual:x8})");
            }

            batches.Add(DecodeBatch(data.Slice(payloadOffset, (int)length), path, payloadOffset));
        }

        if (batches.Count != batchCount)
        {
            throw Errors.Data(path, trailerOffset, $"wal object holds {batches.Count} batches, its trailer says {batchCount}");
        }

        return WalObject.WithBatches(batches);
    }

    /// <summary>Writes the trailer: batch count, CRC32C over the header and the count.</summary>
    internal static void WriteTrailer(Span<byte> span, int batchCount)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)batchCount);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], TrailerChecksum(header, (uint)batchCount));
    }

    private static uint TrailerChecksum(ReadOnlySpan<byte> header, uint batchCount)
    {
        Span<byte> count = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(count, batchCount);
        return Crc32C.Compute(header, count);
    }

    private static WalBatch DecodeBatch(ReadOnlyMemory<byte> payload, string path, long offset)
    {
        var reader = new SpanReader(payload.Span, path, offset, "wal batch");
        var rowCount = reader.ReadCount(MinRowLength);
        reader.Require(rowCount > 0, "batch has no rows");
        var rows = new RowEntry[rowCount];
        for (var i = 0; i < rowCount; i++)
        {
            var flags = reader.ReadU8();
            reader.Require((flags & ~(HasExpireFlag | 0x03)) == 0 && (flags & 0x03) <= (byte)RowKind.Merge, $"bad row flags {flags:x2}");
            var sequence = reader.ReadU64();
            long? expireAt = (flags & HasExpireFlag) != 0 ? reader.ReadI64() : null;
            var keyLength = reader.ReadVarint();
            var valueLength = reader.ReadVarint();
            reader.Require(keyLength is > 0 and <= RowEntry.MaxKeyLength, $"bad key length {keyLength}");
            reader.Require(valueLength <= RowEntry.MaxValueLength, $"value too long ({valueLength} bytes)");
            var keyStart = reader.Position;
            reader.Take((int)keyLength);
            var valueStart = reader.Position;
            reader.Take((int)valueLength);
            rows[i] = new RowEntry(payload.Slice(keyStart, (int)keyLength), payload.Slice(valueStart, (int)valueLength), sequence, (RowKind)(flags & 0x03), expireAt);
        }

        reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the batch's rows");
        return new WalBatch(rows);
    }
}
