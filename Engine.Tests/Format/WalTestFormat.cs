using System.Buffers.Binary;
using SlateSharp.Format;

namespace SlateSharp.Tests.Format;

/// <summary>
/// Test-side WAL encodings the engine no longer writes (version 1 and 2 data objects), a re-encoder for any decoded
/// object, and a checksum repair that lets fuzz cases reach the decoder's structural checks.
/// </summary>
internal static class WalTestFormat
{
    /// <summary>
    /// A version 1 data object holding <paramref name="batches"/>: the current encoding without the epoch, with
    /// version 1 in the header and the trailer checksum over the 8-byte header (docs/format/wal.md, version history).
    /// Range-delete rows are encoded as given, which no version 1 writer could have done: the decoder must refuse them.
    /// </summary>
    public static byte[] EncodeV1(IEnumerable<IReadOnlyList<RowEntry>> batches)
    {
        var current = WalObjectWriter.Encode(batches, writerEpoch: 1);
        byte[] v1 = [.. current.AsSpan(0, WalObjectCodec.V1HeaderLength), .. current.AsSpan(WalObjectCodec.HeaderLength)];
        BinaryPrimitives.WriteUInt16LittleEndian(v1.AsSpan(4), 1);
        FixTrailer(v1, WalObjectCodec.V1HeaderLength);
        return v1;
    }

    /// <summary>
    /// A version 2 data object holding <paramref name="batches"/>: the version 3 encoding with version 2 in the header
    /// and the trailer checksum recomputed (version 3 only added row kind 3). Range-delete rows are encoded as given,
    /// which no version 2 writer could have done: the decoder must refuse them.
    /// </summary>
    public static byte[] EncodeV2(IEnumerable<IReadOnlyList<RowEntry>> batches, ulong writerEpoch)
    {
        var v2 = WalObjectWriter.Encode(batches, writerEpoch);
        BinaryPrimitives.WriteUInt16LittleEndian(v2.AsSpan(4), 2);
        FixTrailer(v2, WalObjectCodec.HeaderLength);
        return v2;
    }

    /// <summary>Encodes a decoded object again in its own version and kind (a zero-byte v1 fence gives zero bytes).</summary>
    public static byte[] Reencode(WalObject decoded)
    {
        var rows = decoded.Batches.Select(b => b.Rows).ToList();
        return (decoded.Kind, decoded.FormatVersion) switch
        {
            (WalObjectKind.Fence, 1) => [],
            (WalObjectKind.Fence, _) => WalObjectCodec.EncodeFence(decoded.WriterEpoch!.Value),
            (WalObjectKind.Data, 1) => EncodeV1(rows),
            (WalObjectKind.Data, 2) => EncodeV2(rows, decoded.WriterEpoch!.Value),
            _ => WalObjectWriter.Encode(rows, decoded.WriterEpoch!.Value),
        };
    }

    /// <summary>
    /// Recomputes every checksum a WAL object's own framing lets us find (fence CRC; each batch record's CRC while
    /// record lengths stay in bounds; the trailer's count and CRC), so that a mutation of the covered bytes is judged by
    /// the structural checks behind the checksums. Leaves inputs it cannot frame unchanged.
    /// </summary>
    public static byte[] Repair(byte[] input)
    {
        var bytes = (byte[])input.Clone();
        if (bytes.Length < 8)
        {
            return bytes;
        }

        var magic = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if (magic == WalObjectCodec.FenceMagic && bytes.Length == WalObjectCodec.FenceLength)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), Crc32C.Compute(bytes.AsSpan(0, 16)));
            return bytes;
        }

        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)) == 1 ? WalObjectCodec.V1HeaderLength : WalObjectCodec.HeaderLength;
        if (magic != WalObjectCodec.Magic || bytes.Length < headerLength + WalObjectCodec.TrailerLength)
        {
            return bytes;
        }

        var end = bytes.Length - WalObjectCodec.TrailerLength;
        var p = headerLength;
        var records = 0u;
        while (p + WalObjectCodec.BatchHeaderLength <= end)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(p));
            if (length > end - p - WalObjectCodec.BatchHeaderLength)
            {
                break;
            }

            var payload = bytes.AsSpan(p + WalObjectCodec.BatchHeaderLength, (int)length);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(p + 4), Crc32C.Compute(payload));
            p += WalObjectCodec.BatchHeaderLength + (int)length;
            records++;
        }

        if (p == end)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(end), records);
        }

        FixTrailer(bytes, headerLength);
        return bytes;
    }

    private static void FixTrailer(byte[] bytes, int headerLength)
    {
        var end = bytes.Length - WalObjectCodec.TrailerLength;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(end + 4), Crc32C.Compute(bytes.AsSpan(0, headerLength), bytes.AsSpan(end, 4)));
    }
}
