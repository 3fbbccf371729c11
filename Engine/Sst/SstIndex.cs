using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// The index block: for every data block its offset, stored length and last row (key and sequence). Indexing by the
/// last row means a seek finds the one block that holds its answer, so it reads exactly one data block
/// (docs/format/sst.md, "Index block").
/// </summary>
internal sealed class SstIndex
{
    /// <summary>Fixed bytes per entry besides the key: offset u64, length u32, last sequence u64, key length u16.</summary>
    public const int EntryOverhead = 8 + 4 + 8 + 2;

    // Decoded entries and their last keys live in chunks below the large-object threshold (85,000 bytes): an index
    // of a large SST is hundreds of kilobytes, and every open of one (compaction opens its inputs for each job) would
    // otherwise leave large-object-heap garbage that only a full collection frees and nothing compacts.
    private const int EntryChunkShift = 11; // 2,048 entries of 40 bytes: 80 KiB
    private const int EntryChunkLength = 1 << EntryChunkShift;
    private const int KeyChunkBytes = 64 << 10; // a key is at most 65,535 bytes, so any key fits one chunk
    private const int KeyChunkShift = 16;

    private readonly Decoded[][] _entries;
    private readonly byte[][] _keys;
    private readonly long _keyBytes;

    private SstIndex(Decoded[][] entries, byte[][] keys, long keyBytes, int count)
    {
        _entries = entries;
        _keys = keys;
        _keyBytes = keyBytes;
        Count = count;
    }

    /// <summary>Number of data blocks.</summary>
    public int Count { get; }

    /// <summary>Managed bytes held.</summary>
    public long Size => _keyBytes + (Count * (long)Unsafe.SizeOf<Decoded>()) + (_entries.Length * 8L);

    public long OffsetOf(int block) => EntryAt(block).Offset;

    public int LengthOf(int block) => EntryAt(block).Length;

    public ulong LastSequenceOf(int block) => EntryAt(block).LastSequence;

    public ReadOnlySpan<byte> LastKeyOf(int block) => KeyOf(EntryAt(block));

    /// <summary>
    /// The first block whose last row is at or after (<paramref name="key"/>, <paramref name="sequence"/>): the only
    /// block that can hold the first row at or after that position. <see cref="Count"/> when every row is before it.
    /// </summary>
    public int FindBlock(ReadOnlySpan<byte> key, ulong sequence = ulong.MaxValue)
    {
        var prefix = KeyComparer.PrefixOf(key);

        // First level: the first chunk whose last entry is at or after the position; then the first entry in it.
        int low = 0, high = _entries.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            ref readonly var chunkLast = ref _entries[mid][^1];
            if (IsBefore(chunkLast, prefix, key, sequence))
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        if (low == _entries.Length)
        {
            return Count;
        }

        var entries = _entries[low];
        int first = 0, last = entries.Length - 1; // the chunk's last entry is known to be at or after the position
        while (first < last)
        {
            var mid = (first + last) >>> 1;
            ref readonly var entry = ref entries[mid];
            if (IsBefore(entry, prefix, key, sequence))
            {
                first = mid + 1;
            }
            else
            {
                last = mid;
            }
        }

        return (low << EntryChunkShift) + first;
    }

    private bool IsBefore(in Decoded entry, ulong prefix, ReadOnlySpan<byte> key, ulong sequence) =>
        entry.LastKeyPrefix < prefix || (entry.LastKeyPrefix == prefix && KeyComparer.Compare(KeyOf(entry), entry.LastSequence, key, sequence) < 0);

    private ref readonly Decoded EntryAt(int block)
    {
        if ((uint)block >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(block));
        }

        return ref _entries[block >> EntryChunkShift][block & (EntryChunkLength - 1)];
    }

    private ReadOnlySpan<byte> KeyOf(in Decoded entry) =>
        _keys[entry.KeyStart >> KeyChunkShift].AsSpan(entry.KeyStart & (KeyChunkBytes - 1), entry.KeyLength);

    /// <summary>
    /// One decoded entry. <see cref="KeyStart"/> is the key chunk's number shifted left by 16 bits, plus the key's
    /// offset in that chunk.
    /// </summary>
    [StructLayout(LayoutKind.Auto)]
    private readonly record struct Decoded(long Offset, ulong LastSequence, ulong LastKeyPrefix, int Length, int KeyStart, ushort KeyLength);

    /// <summary>One index entry as the builder records it.</summary>
    public readonly record struct Entry(long Offset, int Length, ulong LastSequence, byte[] LastKey);

    /// <summary>Writes the index region: count, entries, CRC32C.</summary>
    public static void Encode(IReadOnlyList<Entry> entries, IBufferWriter<byte> output)
    {
        var size = 4 + SstFormat.ChecksumLength;
        foreach (var e in entries)
        {
            size += EntryOverhead + e.LastKey.Length;
        }

        var span = output.GetSpan(size)[..size];
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)entries.Count);
        var p = 4;
        foreach (var e in entries)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[p..], e.Offset);
            BinaryPrimitives.WriteInt32LittleEndian(span[(p + 8)..], e.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(span[(p + 12)..], e.LastSequence);
            BinaryPrimitives.WriteUInt16LittleEndian(span[(p + 20)..], (ushort)e.LastKey.Length);
            e.LastKey.CopyTo(span[(p + EntryOverhead)..]);
            p += EntryOverhead + e.LastKey.Length;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[p..], Crc32C.Compute(span[..p]));
        output.Advance(size);
    }

    /// <summary>
    /// Verifies and decodes an index region read from <paramref name="path"/> at <paramref name="offset"/>. Checks that
    /// the blocks tile [0, <paramref name="dataEnd"/>) in order, that there are <paramref name="expectedCount"/> of
    /// them, and that their last rows ascend.
    /// </summary>
    public static SstIndex Decode(ReadOnlySpan<byte> region, string path, long offset, long dataEnd, int expectedCount)
    {
        VerifyChecksum(region, path, offset, "index");
        var reader = new SpanReader(region[..^SstFormat.ChecksumLength], path, offset, "sst index");
        var count = reader.ReadCount(EntryOverhead + 1);
        reader.Require(count == expectedCount, $"block count {count} differs from the metadata's {expectedCount}");
        var entries = new Decoded[(count + EntryChunkLength - 1) >> EntryChunkShift][];
        for (var c = 0; c < entries.Length; c++)
        {
            entries[c] = new Decoded[Math.Min(EntryChunkLength, count - (c << EntryChunkShift))];
        }

        var keyBytes = reader.Remaining - ((long)count * EntryOverhead);
        var keys = new List<byte[]>();
        var keyRemaining = keyBytes;
        byte[] keyChunk = [];
        var keyUsed = 0;
        var expectedOffset = 0L;
        ReadOnlySpan<byte> previousKey = default;
        ulong previousSequence = 0;
        for (var i = 0; i < count; i++)
        {
            var blockOffset = reader.ReadI64();
            var length = reader.ReadU32();
            reader.Require(blockOffset == expectedOffset, $"block {i} starts at {blockOffset}, expected {expectedOffset}");
            reader.Require(length >= SstFormat.BlockTrailerLength && length <= int.MaxValue && blockOffset + length <= dataEnd, $"block {i} has a bad length {length}");
            var sequence = reader.ReadU64();
            var keyLength = reader.ReadU16();
            reader.Require(keyLength > 0 && keyLength <= keyRemaining, $"block {i} has a bad key length {keyLength}");
            var key = reader.Take(keyLength);
            reader.Require(i == 0 || KeyComparer.Compare(previousKey, previousSequence, key, sequence) < 0, $"block {i} does not sort after block {i - 1}");
            if (keyUsed + keyLength > keyChunk.Length)
            {
                keyChunk = new byte[(int)Math.Min(KeyChunkBytes, keyRemaining)];
                keys.Add(keyChunk);
                keyUsed = 0;
            }

            var stored = keyChunk.AsSpan(keyUsed, keyLength);
            key.CopyTo(stored);
            entries[i >> EntryChunkShift][i & (EntryChunkLength - 1)] = new Decoded(
                blockOffset, sequence, KeyComparer.PrefixOf(key), (int)length, ((keys.Count - 1) << KeyChunkShift) | keyUsed, keyLength);
            keyUsed += keyLength;
            keyRemaining -= keyLength;
            previousKey = stored;
            previousSequence = sequence;
            expectedOffset = blockOffset + length;
        }

        reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the index entries");
        reader.Require(expectedOffset == dataEnd, $"blocks end at {expectedOffset}, data ends at {dataEnd}");
        return new SstIndex(entries, [.. keys], keyBytes, count);
    }

    /// <summary>Checks the CRC32C that ends a region.</summary>
    public static void VerifyChecksum(ReadOnlySpan<byte> region, string path, long offset, string what)
    {
        if (region.Length < SstFormat.ChecksumLength)
        {
            throw Errors.Data(path, offset, $"{what} region too short (length={region.Length})");
        }

        var body = region[..^SstFormat.ChecksumLength];
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(region[^SstFormat.ChecksumLength..]);
        var actual = Crc32C.Compute(body);
        if (expected != actual)
        {
            throw Errors.Data(path, offset, $"{what} checksum mismatch (expected={expected:x8} actual={actual:x8})");
        }
    }
}
