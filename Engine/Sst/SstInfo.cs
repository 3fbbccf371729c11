
namespace SlateSharp.Sst;

/// <summary>What an SST holds, from its metadata: returned by <see cref="SstBuilder.FinishAsync"/> and <see cref="SstReader.Info"/>.</summary>
/// <param name="FirstKey">The smallest key.</param>
/// <param name="LastKey">The largest key.</param>
/// <param name="EntryCount">Rows stored (every version of every key).</param>
/// <param name="SizeBytes">The object's size in bytes.</param>
/// <param name="MinSequence">The lowest sequence number of any row.</param>
/// <param name="MaxSequence">The highest sequence number of any row.</param>
/// <param name="Codec">The codec the SST was built with (individual blocks may be stored uncompressed).</param>
/// <param name="BlockCount">Number of data blocks.</param>
/// <param name="HasFilter">Whether a bloom filter is stored.</param>
/// <param name="PutCount">Rows of kind put.</param>
/// <param name="DeleteCount">Tombstones.</param>
/// <param name="MergeCount">Merge operands.</param>
/// <param name="FormatVersion">The SST format version.</param>
internal sealed record SstInfo(
    byte[] FirstKey,
    byte[] LastKey,
    long EntryCount,
    long SizeBytes,
    ulong MinSequence,
    ulong MaxSequence,
    CompressionCodec Codec,
    int BlockCount,
    bool HasFilter,
    long PutCount,
    long DeleteCount,
    long MergeCount,
    ushort FormatVersion);
