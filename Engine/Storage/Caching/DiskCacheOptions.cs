namespace SlateSharp;

/// <summary>
/// A bounded cache of SST bytes on a local disk, in front of the object store (docs/design/disk-cache.md). A point
/// read that misses the in-memory block cache then costs a local file read instead of a GET once its chunk has been
/// read before, in this process or an earlier one. Only SSTs are cached: they never change once written. Invalid
/// values fail at open with <see cref="ErrorKind.Invalid"/>.
/// </summary>
public sealed class DiskCacheOptions
{
    /// <summary>The smallest chunk size accepted.</summary>
    public const int MinChunkSizeBytes = 4 << 10;

    /// <summary>The largest chunk size accepted.</summary>
    public const int MaxChunkSizeBytes = 16 << 20;

    /// <summary>
    /// The directory that holds the chunk files; created if missing. One process (one <see cref="Db"/> or
    /// <see cref="DbReader"/>) uses it at a time: opening takes a lock file in it and fails with
    /// <see cref="ErrorKind.Invalid"/> while another holds it. It may hold chunks of several databases (they are keyed
    /// by store location and path), but not at the same time.
    /// </summary>
    public required string Directory { get; init; }

    /// <summary>The bound on the chunk files' bytes (headers included); the least recently used chunks are deleted to stay under it.</summary>
    public required long MaxBytes { get; init; }

    /// <summary>
    /// The cache reads and stores SSTs in aligned chunks of this size (a power of two from 4 KiB to 16 MiB, at most
    /// <see cref="MaxBytes"/>). A miss fetches the whole chunk, so a larger chunk warms the cache faster for reads
    /// with locality and a smaller one wastes less disk and bandwidth on random point reads. Default 64 KiB: sixteen
    /// 4 KiB blocks, no slower to GET from S3 than one block.
    /// </summary>
    public int ChunkSizeBytes { get; init; } = 64 << 10;

    internal void Validate(string owner)
    {
        Require(!string.IsNullOrWhiteSpace(Directory), owner, "DiskCache.Directory must be set");
        Require(MaxBytes > 0, owner, $"DiskCache.MaxBytes must be positive (max_bytes={MaxBytes})");
        Require(
            ChunkSizeBytes is >= MinChunkSizeBytes and <= MaxChunkSizeBytes && (ChunkSizeBytes & (ChunkSizeBytes - 1)) == 0,
            owner,
            $"DiskCache.ChunkSizeBytes must be a power of two between {MinChunkSizeBytes} and {MaxChunkSizeBytes} (chunk_size_bytes={ChunkSizeBytes})");
        Require(ChunkSizeBytes <= MaxBytes, owner, $"DiskCache.ChunkSizeBytes must not exceed DiskCache.MaxBytes (chunk_size_bytes={ChunkSizeBytes} max_bytes={MaxBytes})");
    }

    private static void Require(bool condition, string owner, string message)
    {
        if (!condition)
        {
            throw Errors.Invalid($"invalid {owner}: {message}");
        }
    }
}
