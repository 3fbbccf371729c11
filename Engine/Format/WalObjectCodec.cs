using System.Buffers.Binary;

namespace SlateSharp.Format;

/// <summary>
/// Decodes WAL objects (docs/format/wal.md); <see cref="WalObjectWriter"/> encodes data objects and
/// <see cref="EncodeFence"/> fence records. Reads data objects of versions 1 to 3: a version 1 data object has an
/// 8-byte header without an epoch, version 3 is version 2 with range-delete rows (<see cref="RowKind.RangeDelete"/>)
/// allowed. A version 1 fence is a zero-byte object, which is only taken for a fence where the caller knows from the
/// manifest that a version 1 writer may have put one; fence records have stayed at version 2. Every length is
/// bounds-checked before use and every failure is an <see cref="ErrorKind.Data"/> error naming the object and offset.
/// </summary>
internal static class WalObjectCodec
{
    /// <summary>The WAL data object format version this build writes.</summary>
    public const ushort CurrentVersion = 3;

    /// <summary>The first data object version that may hold <see cref="RowKind.RangeDelete"/> rows.</summary>
    public const ushort RangeDeleteVersion = 3;

    /// <summary>
    /// The one fence record version: written by this build and the only one it reads. Version 3 changed data objects
    /// only, and a fence has one encoding per epoch, so a fence claiming version 3 is corrupt.
    /// </summary>
    public const ushort FenceVersion = 2;

    /// <summary>The oldest version this build reads.</summary>
    public const ushort OldestReadableVersion = 1;

    /// <summary>"SLWL" read as a little-endian u32: the first four bytes of every data object.</summary>
    public const uint Magic = 0x4C574C53;

    /// <summary>"SLWF" read as a little-endian u32: the first four bytes of every version 2 fence record.</summary>
    public const uint FenceMagic = 0x46574C53;

    /// <summary>Data object header of version 1: magic, version, reserved.</summary>
    public const int V1HeaderLength = 8;

    /// <summary>Data object header of version 2: magic, version, reserved, writer epoch.</summary>
    public const int HeaderLength = 16;

    public const int TrailerLength = 8;

    /// <summary>A fence record: magic, version, reserved, writer epoch, CRC-32C of the 16 bytes before it.</summary>
    public const int FenceLength = 20;

    /// <summary>Bytes before a batch payload: payload length u32, CRC32C u32.</summary>
    public const int BatchHeaderLength = 8;

    /// <summary>The largest batch record accepted (1 GiB).</summary>
    public const int MaxBatchLength = 1 << 30;

    /// <summary>Row flags: bits 0-1 the <see cref="RowKind"/>, bit 2 an expire time follows the sequence.</summary>
    public const byte HasExpireFlag = 0x04;

    /// <summary>The option a zero-byte object's error points to; kept here so the message and the option agree.</summary>
    public const string SkipOptionName = "DbOptions.SkipCorruptWalTail";

    private const int MinRowLength = 1 + 8 + 1 + 1 + 1;

    /// <summary>
    /// Decodes a WAL object read from <paramref name="path"/>. Rows alias <paramref name="data"/>, which must not
    /// change afterwards. A zero-byte object is a version 1 fence when <paramref name="zeroByteIsFence"/> is true (the
    /// manifest says a version 1 writer may have fenced at this id) and a Data error otherwise: a torn or truncated
    /// object must never pass for a fence, since its acknowledged writes would vanish silently.
    /// </summary>
    public static WalObject Decode(ReadOnlyMemory<byte> data, string path, bool zeroByteIsFence)
    {
        if (data.IsEmpty)
        {
            return zeroByteIsFence
                ? WalObject.V1Fence
                : throw Errors.Data(path, 0,
                    "zero-byte wal object where this database's wal format needs a fence record or a data object: the object is torn or " +
                    "truncated and the writes it held cannot be read; if it is the newest wal object, reopen with " +
                    $"{SkipOptionName} = true to skip it (the open reports what it skipped), otherwise restore the object from a copy");
        }

        var span = data.Span;
        var header = new SpanReader(span, path, 0, "wal object");
        var magic = header.ReadU32();
        return magic switch
        {
            Magic => DecodeData(data, path, ref header),
            FenceMagic => DecodeFence(span, path, ref header),
            _ => throw Errors.Data(path, 0, $"not a wal object: bad magic (found={magic:x8} expected={Magic:x8} or {FenceMagic:x8})"),
        };
    }

    /// <summary>The version 2 fence record a writer of epoch <paramref name="writerEpoch"/> puts at the first free WAL id.</summary>
    public static byte[] EncodeFence(ulong writerEpoch)
    {
        CheckEpoch(writerEpoch);
        var fence = new byte[FenceLength];
        BinaryPrimitives.WriteUInt32LittleEndian(fence, FenceMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(fence.AsSpan(4), FenceVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(fence.AsSpan(6), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(fence.AsSpan(8), writerEpoch);
        BinaryPrimitives.WriteUInt32LittleEndian(fence.AsSpan(16), Crc32C.Compute(fence.AsSpan(0, 16)));
        return fence;
    }

    /// <summary>Writes the current-version data object header for <paramref name="writerEpoch"/> into its first 16 bytes.</summary>
    internal static void WriteHeader(Span<byte> span, ulong writerEpoch)
    {
        CheckEpoch(writerEpoch);
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], writerEpoch);
    }

    /// <summary>Writes the trailer: batch count, CRC32C over the current-version header and the count.</summary>
    internal static void WriteTrailer(Span<byte> span, ulong writerEpoch, int batchCount)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        WriteHeader(header, writerEpoch);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)batchCount);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], TrailerChecksum(header, (uint)batchCount));
    }

    private static WalObject DecodeData(ReadOnlyMemory<byte> data, string path, ref SpanReader header)
    {
        var span = data.Span;
        var version = ReadVersion(ref header, path, OldestReadableVersion, CurrentVersion, "wal format", $"versions {OldestReadableVersion} to {CurrentVersion}");
        header.Require(header.ReadU16() == 0, "reserved header field is not zero");
        var headerLength = version == 1 ? V1HeaderLength : HeaderLength;
        header.Require(span.Length >= headerLength + TrailerLength, $"too short for header and trailer (length={span.Length})");
        ulong? epoch = version == 1 ? null : header.ReadU64();
        var trailerOffset = span.Length - TrailerLength;
        var batchCount = BinaryPrimitives.ReadUInt32LittleEndian(span[trailerOffset..]);
        var expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(span[(trailerOffset + 4)..]);
        if (expectedCrc != TrailerChecksum(span[..headerLength], batchCount))
        {
            throw Errors.Data(path, trailerOffset, "wal object trailer checksum mismatch (truncated or corrupt object)");
        }

        if (epoch is { } e && !IsValidEpoch(e))
        {
            throw Errors.Data(path, 8, $"wal object names an impossible writer epoch (epoch={e})");
        }

        var body = new SpanReader(span[headerLength..trailerOffset], path, headerLength, "wal object");
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

            batches.Add(DecodeBatch(data.Slice(payloadOffset, (int)length), path, payloadOffset, version));
        }

        if (batches.Count != batchCount)
        {
            throw Errors.Data(path, trailerOffset, $"wal object holds {batches.Count} batches, its trailer says {batchCount}");
        }

        return WalObject.Data(version, epoch, batches);
    }

    private static WalObject DecodeFence(ReadOnlySpan<byte> span, string path, ref SpanReader header)
    {
        // Fence records exist from version 2 on and are still version 2; a version 1 fence is a zero-byte object.
        ReadVersion(ref header, path, FenceVersion, FenceVersion, "wal fence format", $"fence records of version {FenceVersion} only");
        header.Require(header.ReadU16() == 0, "reserved fence field is not zero");
        header.Require(span.Length == FenceLength, $"fence record must be {FenceLength} bytes (length={span.Length})");
        var epoch = header.ReadU64();
        var expected = header.ReadU32();
        var actual = Crc32C.Compute(span[..16]);
        if (expected != actual)
        {
            throw Errors.Data(path, 16, $"wal fence checksum mismatch (expected={expected:x8} actual={actual:x8})");
        }

        if (!IsValidEpoch(epoch))
        {
            throw Errors.Data(path, 8, $"wal fence names an impossible writer epoch (epoch={epoch})");
        }

        return WalObject.Fence(epoch);
    }

    private static ushort ReadVersion(ref SpanReader header, string path, ushort oldest, ushort newest, string what, string reads)
    {
        var version = header.ReadU16();
        if (version < oldest || version > newest)
        {
            throw Errors.Data(path, 4, $"unsupported {what} version {version}; this build reads {reads}");
        }

        return version;
    }

    /// <summary>Writer epochs start at 1 (a claim increments the empty manifest's 0) and fit 63 bits, like the manifest's.</summary>
    private static bool IsValidEpoch(ulong epoch) => epoch is > 0 and <= long.MaxValue;

    private static void CheckEpoch(ulong writerEpoch)
    {
        if (!IsValidEpoch(writerEpoch))
        {
            throw Errors.Internal($"writer epoch out of range for a wal object (epoch={writerEpoch} min=1 max={long.MaxValue})");
        }
    }

    private static uint TrailerChecksum(ReadOnlySpan<byte> header, uint batchCount)
    {
        Span<byte> count = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(count, batchCount);
        return Crc32C.Compute(header, count);
    }

    private static WalBatch DecodeBatch(ReadOnlyMemory<byte> payload, string path, long offset, ushort version)
    {
        var reader = new SpanReader(payload.Span, path, offset, "wal batch");
        var rowCount = reader.ReadCount(MinRowLength);
        reader.Require(rowCount > 0, "batch has no rows");
        var newestKind = version >= RangeDeleteVersion ? RowKind.RangeDelete : RowKind.Merge;
        var rows = new RowEntry[rowCount];
        for (var i = 0; i < rowCount; i++)
        {
            var flags = reader.ReadU8();
            reader.Require((flags & ~(HasExpireFlag | 0x03)) == 0 && (flags & 0x03) <= (byte)newestKind,
                $"bad row flags {flags:x2}" + ((flags & 0x03) == (byte)RowKind.RangeDelete ? $" (a range delete, first allowed in wal format version {RangeDeleteVersion}, in a version {version} object)" : ""));
            var kind = (RowKind)(flags & 0x03);
            var sequence = reader.ReadU64();
            long? expireAt = (flags & HasExpireFlag) != 0 ? reader.ReadI64() : null;
            var keyLength = reader.ReadVarint();
            var valueLength = reader.ReadVarint();
            reader.Require(keyLength is > 0 and <= RowEntry.MaxKeyLength, $"bad key length {keyLength}");
            reader.Require(valueLength <= RowEntry.MaxValueLength, $"value too long ({valueLength} bytes)");
            var keyStart = reader.Position;
            var key = reader.Take((int)keyLength);
            var valueStart = reader.Position;
            var value = reader.Take((int)valueLength);
            if (kind == RowKind.RangeDelete)
            {
                reader.Require(expireAt is null, $"bad row flags {flags:x2} (a range delete has no expire time)");
                reader.Require(valueLength is > 0 and <= RowEntry.MaxKeyLength, $"range delete end key of bad length {valueLength}");
                reader.Require(KeyComparer.CompareKeys(value, key) > 0, "range delete end key does not sort after its start key");
            }

            rows[i] = new RowEntry(payload.Slice(keyStart, (int)keyLength), payload.Slice(valueStart, (int)valueLength), sequence, kind, expireAt);
        }

        reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the batch's rows");
        return new WalBatch(rows);
    }
}
