namespace SlateSharp;

/// <summary>
/// How SST data blocks are compressed. Chosen per database, recorded in every SST's metadata, and applied per block:
/// a block whose compressed form does not save at least an eighth is stored uncompressed.
/// </summary>
/// <remarks>
/// <see cref="Lz4"/> and <see cref="Zstd"/> call the system's native libraries (<c>liblz4.so.1</c> from the Debian
/// package <c>liblz4-1</c>, <c>libzstd.so.1</c> from <c>libzstd1</c>); they are loaded only when the codec is used.
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
