using SlateSharp.Compression;

namespace SlateSharp.Sst;

/// <summary>How an <see cref="SstBuilder"/> lays out an SST.</summary>
internal sealed record SstBuilderOptions
{
    /// <summary>The smallest block size accepted (small sizes are useful in tests).</summary>
    public const int MinBlockSize = 64;

    /// <summary>The largest block size accepted.</summary>
    public const int MaxBlockSize = 1 << 20;

    /// <summary>Defaults: 4 KiB blocks, no compression, 10 bloom bits per key.</summary>
    public static SstBuilderOptions Default { get; } = new();

    /// <summary>Target size of a raw data block; a block exceeds it only to hold a single row larger than the target.</summary>
    public int BlockSize { get; init; } = 4096;

    /// <summary>Codec for data blocks; each block is stored uncompressed when compression does not save an eighth.</summary>
    public CompressionCodec Codec { get; init; } = CompressionCodec.None;

    /// <summary>Zstandard compression level (1-22) when <see cref="Codec"/> is <see cref="CompressionCodec.Zstd"/>.</summary>
    public int ZstdLevel { get; init; } = BlockCompressor.DefaultZstdLevel;

    /// <summary>Bloom filter bits per distinct key; 0 writes no filter. 10 gives about 1% false positives.</summary>
    public int BloomBitsPerKey { get; init; } = 10;

    /// <summary>Rows between full keys in a data block.</summary>
    public int RestartInterval { get; init; } = SstFormat.DefaultRestartInterval;

    /// <summary>The builder asks its caller to flush once this many finished bytes wait in memory.</summary>
    public int FlushThreshold { get; init; } = 64 << 10;

    /// <summary>Throws <see cref="ErrorKind.Invalid"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (BlockSize is < MinBlockSize or > MaxBlockSize)
        {
            throw Errors.Invalid($"sst block size out of range (block_size={BlockSize} min={MinBlockSize} max={MaxBlockSize})");
        }

        if (Codec is not (CompressionCodec.None or CompressionCodec.Lz4 or CompressionCodec.Zstd))
        {
            throw Errors.Invalid($"unknown compression codec (codec={(int)Codec})");
        }

        if (ZstdLevel is < 1 or > 22)
        {
            throw Errors.Invalid($"zstd level out of range (zstd_level={ZstdLevel} min=1 max=22)");
        }

        if (BloomBitsPerKey is < 0 or > 64)
        {
            throw Errors.Invalid($"bloom bits per key out of range (bloom_bits_per_key={BloomBitsPerKey} min=0 max=64)");
        }

        if (RestartInterval is < 1 or > 1024)
        {
            throw Errors.Invalid($"restart interval out of range (restart_interval={RestartInterval} min=1 max=1024)");
        }

        if (FlushThreshold < 1)
        {
            throw Errors.Invalid($"flush threshold must be positive (flush_threshold={FlushThreshold})");
        }
    }
}
