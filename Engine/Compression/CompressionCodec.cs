namespace SlateSharp;

/// <summary>
/// How SST data blocks are compressed. Chosen per database, recorded in every SST's metadata, and applied per block:
/// a block whose compressed form does not save at least an eighth is stored uncompressed.
/// </summary>
/// <remarks>
/// <see cref="Lz4"/> (K4os.Compression.LZ4) and <see cref="Zstd"/> (ZstdSharp.Port) are managed: no native library
/// is needed. Their blocks are the reference libraries' formats (liblz4, libzstd), which the tests check both ways.
/// The numeric values are stored on disk and never change.
/// </remarks>
public enum CompressionCodec
{
    /// <summary>Blocks are stored as built.</summary>
    None = 0,

    /// <summary>LZ4 block format: fast, moderate ratio.</summary>
    Lz4 = 1,

    /// <summary>Zstandard: better ratio, slower to compress.</summary>
    Zstd = 2,
}
