using System.Buffers;
using System.Buffers.Binary;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>Where a row found by <see cref="BlockSearch.TryFind"/> is: its value as a range of the block, and its header.</summary>
internal readonly record struct BlockRow(int ValueStart, int ValueLength, ulong Sequence, RowKind Kind, long? ExpireAt);

/// <summary>
/// A point lookup within one data block without an iterator and without allocating: a binary search over the restart
/// points (whose rows store their whole key, so they are compared in place), then a forward scan of at most one
/// restart interval, rebuilding prefix-compressed keys in a stack buffer. The row layout is that of
/// <see cref="BlockBuilder"/> (docs/format/sst.md, "Data block").
/// </summary>
/// <remarks>
/// Only for blocks that <see cref="SstReader"/> has verified (every row walked by a <see cref="BlockIterator"/> when the
/// block was read from the store), so it checks framing only as far as reading needs: a malformed row is still a Data
/// error, never an out-of-range read, but row order is not checked again.
/// </remarks>
internal static class BlockSearch
{
    private const int StackKeyBytes = 256;

    /// <summary>
    /// Finds the newest row of <paramref name="key"/> with a sequence at or below <paramref name="maxSequence"/>; false
    /// when the block's first row at or after that position is another key or there is none.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static bool TryFind(Block block, ReadOnlySpan<byte> key, ulong maxSequence, out BlockRow row)
    {
        var data = block.Data.Span;
        var rows = data[..block.EntriesEnd];

        // The last restart whose row sorts before the target; the answer is in the interval it starts (or is row 0).
        int low = 0, high = block.RestartCount - 1;
        while (low < high)
        {
            var mid = (low + high + 1) >>> 1;
            var offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(block.EntriesEnd + (4 * mid))..]);
            var header = ReadHeader(block, rows, offset);
            if (header.Shared != 0)
            {
                throw Corrupt(block, offset, "a restart row shares a prefix");
            }

            var restartKey = rows.Slice(header.SuffixStart, header.Unshared);
            if (KeyComparer.Compare(restartKey, header.Sequence, key, maxSequence) < 0)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        byte[]? rented = null;
        Span<byte> current = stackalloc byte[StackKeyBytes];
        try
        {
            var offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(block.EntriesEnd + (4 * low))..]);
            var currentLength = 0;
            while (offset < block.EntriesEnd)
            {
                var header = ReadHeader(block, rows, offset);
                if (header.Shared > currentLength)
                {
                    throw Corrupt(block, offset, $"shared prefix longer than the previous key (shared={header.Shared} previous={currentLength})");
                }

                var keyLength = header.Shared + header.Unshared;
                if (keyLength > RowEntry.MaxKeyLength)
                {
                    throw Corrupt(block, offset, $"bad key length (length={keyLength})");
                }

                if (keyLength > current.Length)
                {
                    // Keys longer than the stack buffer are rare (the limit is 64 KiB): one pooled buffer for the rest.
                    var bigger = ArrayPool<byte>.Shared.Rent(RowEntry.MaxKeyLength);
                    current[..currentLength].CopyTo(bigger);
                    if (rented is not null)
                    {
                        ArrayPool<byte>.Shared.Return(rented);
                    }

                    rented = bigger;
                    current = bigger;
                }

                rows.Slice(header.SuffixStart, header.Unshared).CopyTo(current[header.Shared..]);
                currentLength = keyLength;
                var order = KeyComparer.Compare(current[..keyLength], header.Sequence, key, maxSequence);
                if (order >= 0)
                {
                    if (!current[..keyLength].SequenceEqual(key))
                    {
                        break;
                    }

                    row = new BlockRow(header.ValueStart, header.ValueLength, header.Sequence, header.Kind, header.ExpireAt);
                    return true;
                }

                offset = header.ValueStart + header.ValueLength;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        row = default;
        return false;
    }

    private static Header ReadHeader(Block block, ReadOnlySpan<byte> rows, int offset)
    {
        var p = offset;
        if (!Varint.TryRead(rows, ref p, out var shared) ||
            !Varint.TryRead(rows, ref p, out var unshared) ||
            !Varint.TryRead(rows, ref p, out var valueLength) ||
            p >= rows.Length)
        {
            throw Corrupt(block, offset, "bad row header");
        }

        var flags = rows[p++];
        var hasExpire = (flags & BlockBuilder.HasExpireFlag) != 0;
        var fixedLength = 8 + (hasExpire ? 8 : 0);
        if (shared > RowEntry.MaxKeyLength || (ulong)(rows.Length - p) < (ulong)fixedLength + unshared + valueLength)
        {
            throw Corrupt(block, offset, $"row runs past the end of the block (key_suffix={unshared} value={valueLength})");
        }

        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(rows[p..]);
        p += 8;
        long? expireAt = hasExpire ? BinaryPrimitives.ReadInt64LittleEndian(rows[p..]) : null;
        p += hasExpire ? 8 : 0;
        return new Header((int)shared, (int)unshared, p, p + (int)unshared, (int)valueLength, sequence, (RowKind)(flags & BlockBuilder.KindMask), expireAt);
    }

    private static SlateSharpException Corrupt(Block block, int entryOffset, string message) =>
        Errors.Data(block.Path, block.Offset, $"corrupt block row: {message} (row_offset={entryOffset})");

    private readonly record struct Header(int Shared, int Unshared, int SuffixStart, int ValueStart, int ValueLength, ulong Sequence, RowKind Kind, long? ExpireAt);
}
