using System.Buffers;
using System.Buffers.Binary;
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

    private readonly long[] _offsets;
    private readonly int[] _lengths;
    private readonly ulong[] _lastSequences;
    private readonly byte[] _keys;
    private readonly int[] _keyStarts;
    private readonly ulong[] _lastKeyPrefixes; // KeyComparer.PrefixOf each last key: the search compares these first

    private SstIndex(long[] offsets, int[] lengths, ulong[] lastSequences, byte[] keys, int[] keyStarts)
    {
        _offsets = offsets;
        _lengths = lengths;
        _lastSequences = lastSequences;
        _keys = keys;
        _keyStarts = keyStarts;
        _lastKeyPrefixes = new ulong[offsets.Length];
        for (var i = 0; i < _lastKeyPrefixes.Length; i++)
        {
            _lastKeyPrefixes[i] = KeyComparer.PrefixOf(LastKeyOf(i));
        }
    }

    /// <summary>Number of data blocks.</summary>
    public int Count => _offsets.Length;

    /// <summary>Managed bytes held.</summary>
    public long Size => _keys.Length + (Count * 36L);

    public long OffsetOf(int block) => _offsets[block];

    public int LengthOf(int block) => _lengths[block];

    public ulong LastSequenceOf(int block) => _lastSequences[block];

    public ReadOnlySpan<byte> LastKeyOf(int block) => _keys.AsSpan(_keyStarts[block], _keyStarts[block + 1] - _keyStarts[block]);

    /// <summary>
    /// The first block whose last row is at or after (<paramref name="key"/>, <paramref name="sequence"/>): the only
    /// block that can hold the first row at or after that position. <see cref="Count"/> when every row is before it.
    /// </summary>
    public int FindBlock(ReadOnlySpan<byte> key, ulong sequence = ulong.MaxValue)
    {
        var prefix = KeyComparer.PrefixOf(key);
        int low = 0, high = Count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            var lastPrefix = _lastKeyPrefixes[mid];
            if (lastPrefix < prefix || (lastPrefix == prefix && KeyComparer.Compare(LastKeyOf(mid), _lastSequences[mid], key, sequence) < 0))
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

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
        var offsets = new long[count];
        var lengths = new int[count];
        var sequences = new ulong[count];
        var keyStarts = new int[count + 1];
        var keys = new byte[reader.Remaining - (count * EntryOverhead)];
        var expectedOffset = 0L;
        var keyEnd = 0;
        for (var i = 0; i < count; i++)
        {
            var blockOffset = reader.ReadI64();
            var length = reader.ReadU32();
            reader.Require(blockOffset == expectedOffset, $"block {i} starts at {blockOffset}, expected {expectedOffset}");
            reader.Require(length >= SstFormat.BlockTrailerLength && length <= int.MaxValue && blockOffset + length <= dataEnd, $"block {i} has a bad length {length}");
            sequences[i] = reader.ReadU64();
            var keyLength = reader.ReadU16();
            reader.Require(keyLength > 0 && keyEnd + keyLength <= keys.Length, $"block {i} has a bad key length {keyLength}");
            var key = reader.Take(keyLength);
            reader.Require(i == 0 || KeyComparer.Compare(keys.AsSpan(keyStarts[i - 1], keyEnd - keyStarts[i - 1]), sequences[i - 1], key, sequences[i]) < 0, $"block {i} does not sort after block {i - 1}");
            key.CopyTo(keys.AsSpan(keyEnd));
            offsets[i] = blockOffset;
            lengths[i] = (int)length;
            keyStarts[i] = keyEnd;
            keyEnd += keyLength;
            keyStarts[i + 1] = keyEnd;
            expectedOffset = blockOffset + length;
        }

        reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the index entries");
        reader.Require(expectedOffset == dataEnd, $"blocks end at {expectedOffset}, data ends at {dataEnd}");
        return new SstIndex(offsets, lengths, sequences, keys, keyStarts);
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
