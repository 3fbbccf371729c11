using System.Buffers.Binary;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// The fixed 32 bytes that end every SST: where the data blocks end (the tail of filter, index and metadata starts
/// there) and where the metadata is, then the format version and magic (docs/format/sst.md, "Footer").
/// </summary>
/// <param name="DataEnd">Offset of the first byte after the data blocks: the filter, or the index if there is none.</param>
/// <param name="MetadataOffset">Offset of the metadata region.</param>
/// <param name="MetadataLength">Length of the metadata region, checksum included.</param>
/// <param name="Version">The format version.</param>
internal readonly record struct SstFooter(long DataEnd, long MetadataOffset, int MetadataLength, ushort Version)
{
    public const int Length = 32;

    public void Write(Span<byte> destination)
    {
        var span = destination[..Length];
        BinaryPrimitives.WriteInt64LittleEndian(span, DataEnd);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], MetadataOffset);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], MetadataLength);
        BinaryPrimitives.WriteUInt16LittleEndian(span[24..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[26..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], SstFormat.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], Checksum(span));
    }

    /// <summary>
    /// Decodes and checks the footer of an object of <paramref name="objectSize"/> bytes. Rejects other magic, versions
    /// this build cannot read, a bad checksum, and regions that do not fit the object.
    /// </summary>
    public static SstFooter Read(ReadOnlySpan<byte> footer, long objectSize, string path)
    {
        var offset = objectSize - Length;
        if (footer.Length != Length || objectSize < Length)
        {
            throw Errors.Data(path, Math.Max(0, offset), $"object too short for an sst footer (size={objectSize})");
        }

        var magic = BinaryPrimitives.ReadUInt32LittleEndian(footer[28..]);
        if (magic != SstFormat.Magic)
        {
            throw Errors.Data(path, offset + 28, $"not an sst: bad magic (found={magic:x8} expected={SstFormat.Magic:x8})");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(footer[24..]);
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(footer[20..]);
        var actual = Checksum(footer);
        if (version is < SstFormat.OldestReadableVersion or > SstFormat.CurrentVersion)
        {
            // A newer version may lay its footer out differently, so the checksum cannot decide; but where it fails as
            // this build computes it, the version field itself may be what is damaged.
            var hint = expected == actual ? "" : " (or a corrupt footer: its checksum does not match as version 1 computes it)";
            throw Errors.Data(path, offset + 24, $"unsupported sst format version {version}{hint}; this build reads versions {SstFormat.OldestReadableVersion} to {SstFormat.CurrentVersion}");
        }

        if (expected != actual || BinaryPrimitives.ReadUInt16LittleEndian(footer[26..]) != 0)
        {
            throw Errors.Data(path, offset, $"sst footer checksum mismatch (expected={expected:x8} actual={actual:x8})");
        }

        var dataEnd = BinaryPrimitives.ReadInt64LittleEndian(footer);
        var metadataOffset = BinaryPrimitives.ReadInt64LittleEndian(footer[8..]);
        var metadataLength = BinaryPrimitives.ReadInt32LittleEndian(footer[16..]);
        if (metadataLength < SstFormat.ChecksumLength || metadataOffset < 0 || metadataOffset + metadataLength != offset ||
            dataEnd <= 0 || dataEnd > metadataOffset)
        {
            throw Errors.Data(path, offset, $"sst footer regions do not fit the object (data_end={dataEnd} metadata_offset={metadataOffset} metadata_length={metadataLength} size={objectSize})");
        }

        return new SstFooter(dataEnd, metadataOffset, metadataLength, version);
    }

    private static uint Checksum(ReadOnlySpan<byte> footer) => Crc32C.Compute(footer[..20], footer[24..Length]);
}
