namespace SlateSharp.Sst;

/// <summary>
/// Constants of the SST format (docs/format/sst.md). Keep in sync with that document, <see cref="BlockBuilder"/>,
/// <see cref="Block"/>, <see cref="SstIndex"/>, <see cref="BloomFilter"/>, <see cref="SstMetadata"/> and
/// <see cref="SstFooter"/>.
/// </summary>
internal static class SstFormat
{
    /// <summary>The format version this build writes.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>The oldest format version this build reads.</summary>
    public const ushort OldestReadableVersion = 1;

    /// <summary>"SLSS" read as a little-endian u32: the last four bytes of every SST.</summary>
    public const uint Magic = 0x53534C53;

    /// <summary>Bytes after every stored block: raw length u32, codec u8, CRC32C u32.</summary>
    public const int BlockTrailerLength = 9;

    /// <summary>Rows between restart points (full keys) in a data block.</summary>
    public const int DefaultRestartInterval = 16;

    /// <summary>Bytes of the checksum that ends the filter, index and metadata regions.</summary>
    public const int ChecksumLength = 4;
}
