using System.Buffers;
using System.Buffers.Binary;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// The metadata region: codec, counts, key and sequence ranges and where the filter and index are
/// (docs/format/sst.md, "Metadata").
/// </summary>
internal sealed record SstMetadata(
    CompressionCodec Codec,
    int BlockCount,
    int MaxRawBlockLength,
    int BlockSize,
    long EntryCount,
    long PutCount,
    long DeleteCount,
    long MergeCount,
    ulong MinSequence,
    ulong MaxSequence,
    long FilterOffset,
    int FilterLength,
    long IndexOffset,
    int IndexLength,
    byte[] FirstKey,
    byte[] LastKey)
{
    private const byte HasFilterFlag = 0x01;
    private const int FixedLength = 1 + 1 + 2 + 4 + 4 + 4 + (8 * 6) + 8 + 4 + 8 + 4;

    /// <summary>The largest raw block a valid SST can hold: a maximal block plus one maximal row.</summary>
    public const int MaxRawBlockLimit = SstBuilderOptions.MaxBlockSize + (RowEntry.MaxKeyLength * 2) + RowEntry.MaxValueLength + 64;

    public bool HasFilter => FilterLength > 0;

    public SstInfo ToInfo(long sizeBytes, ushort version) => new(
        FirstKey, LastKey, EntryCount, sizeBytes, MinSequence, MaxSequence, Codec, BlockCount, HasFilter,
        PutCount, DeleteCount, MergeCount, version);

    /// <summary>Writes the region (fields, CRC32C).</summary>
    public void Encode(IBufferWriter<byte> output)
    {
        var size = FixedLength + 2 + FirstKey.Length + 2 + LastKey.Length + SstFormat.ChecksumLength;
        var span = output.GetSpan(size)[..size];
        span[0] = (byte)Codec;
        span[1] = HasFilter ? HasFilterFlag : (byte)0;
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], BlockCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], MaxRawBlockLength);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], BlockSize);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], EntryCount);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], PutCount);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], DeleteCount);
        BinaryPrimitives.WriteInt64LittleEndian(span[40..], MergeCount);
        BinaryPrimitives.WriteUInt64LittleEndian(span[48..], MinSequence);
        BinaryPrimitives.WriteUInt64LittleEndian(span[56..], MaxSequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[64..], FilterOffset);
        BinaryPrimitives.WriteInt32LittleEndian(span[72..], FilterLength);
        BinaryPrimitives.WriteInt64LittleEndian(span[76..], IndexOffset);
        BinaryPrimitives.WriteInt32LittleEndian(span[84..], IndexLength);
        var p = FixedLength;
        BinaryPrimitives.WriteUInt16LittleEndian(span[p..], (ushort)FirstKey.Length);
        FirstKey.CopyTo(span[(p + 2)..]);
        p += 2 + FirstKey.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(span[p..], (ushort)LastKey.Length);
        LastKey.CopyTo(span[(p + 2)..]);
        p += 2 + LastKey.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(span[p..], Crc32C.Compute(span[..p]));
        output.Advance(size);
    }

    /// <summary>Verifies and decodes the region at <see cref="SstFooter.MetadataOffset"/>, checking it against the footer.</summary>
    public static SstMetadata Decode(ReadOnlySpan<byte> region, string path, SstFooter footer)
    {
        var offset = footer.MetadataOffset;
        SstIndex.VerifyChecksum(region, path, offset, "metadata");
        var r = new SpanReader(region[..^SstFormat.ChecksumLength], path, offset, "sst metadata");
        var codec = (CompressionCodec)r.ReadU8();
        r.Require(codec is CompressionCodec.None or CompressionCodec.Lz4 or CompressionCodec.Zstd, $"unknown codec {(int)codec}");
        var flags = r.ReadU8();
        r.Require((flags & ~HasFilterFlag) == 0, $"unknown flags {flags:x2}");
        r.Require(r.ReadU16() == 0, "reserved field is not zero");
        var blockCount = (int)r.ReadU32();
        var maxRaw = (int)r.ReadU32();
        var blockSize = (int)r.ReadU32();
        var entries = (long)r.ReadU64();
        var puts = (long)r.ReadU64();
        var deletes = (long)r.ReadU64();
        var merges = (long)r.ReadU64();
        var minSeq = r.ReadU64();
        var maxSeq = r.ReadU64();
        var filterOffset = r.ReadI64();
        var filterLength = (int)r.ReadU32();
        var indexOffset = r.ReadI64();
        var indexLength = (int)r.ReadU32();
        var firstKey = ReadKey(ref r);
        var lastKey = ReadKey(ref r);
        r.Require(r.Remaining == 0, $"{r.Remaining} unexpected bytes after the metadata fields");

        r.Require(blockCount > 0 && entries >= blockCount, $"bad counts (blocks={blockCount} entries={entries})");
        r.Require(puts >= 0 && deletes >= 0 && merges >= 0 && puts + deletes + merges == entries, $"row kind counts do not add up (puts={puts} deletes={deletes} merges={merges} entries={entries})");
        r.Require(maxRaw > 0 && maxRaw <= MaxRawBlockLimit, $"bad max raw block length {maxRaw}");
        r.Require(minSeq <= maxSeq, $"sequence range inverted (min={minSeq} max={maxSeq})");
        r.Require(KeyComparer.CompareKeys(firstKey, lastKey) <= 0, "first key sorts after last key");
        var hasFilter = (flags & HasFilterFlag) != 0;
        var indexStart = hasFilter ? filterOffset + filterLength : footer.DataEnd;
        r.Require(
            hasFilter ? filterOffset == footer.DataEnd && filterLength > BloomFilter.HeaderLength + SstFormat.ChecksumLength : filterOffset == 0 && filterLength == 0,
            $"filter region does not fit (offset={filterOffset} length={filterLength} data_end={footer.DataEnd})");
        r.Require(
            indexOffset == indexStart && indexLength > SstFormat.ChecksumLength && indexOffset + indexLength == footer.MetadataOffset,
            $"index region does not fit (offset={indexOffset} length={indexLength} metadata_offset={footer.MetadataOffset})");
        return new SstMetadata(codec, blockCount, maxRaw, blockSize, entries, puts, deletes, merges, minSeq, maxSeq,
            filterOffset, filterLength, indexOffset, indexLength, firstKey, lastKey);
    }

    private static byte[] ReadKey(ref SpanReader reader)
    {
        var length = reader.ReadU16();
        reader.Require(length > 0, "empty key in key range");
        return reader.Take(length).ToArray();
    }
}
