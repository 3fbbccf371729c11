using System.Buffers.Binary;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>Where a row found by <see cref="BlockSearch.TryFind"/> is: its value as a range of the block, and its header.</summary>
internal readonly record struct BlockRow(int ValueStart, int ValueLength, ulong Sequence, RowKind Kind, long? ExpireAt);

/// <summary>
/// A point lookup within one data block without an iterator and without allocating: a binary search over the restart
/// points (whose rows store their whole key, so they are compared in place), then a forward scan of at most one
/// restart interval that compares each prefix-compressed key by its stored suffix alone, never rebuilding it. The row
/// layout is that of <see cref="BlockBuilder"/> (docs/format/sst.md, "Data block").
/// </summary>
/// <remarks>
/// Only for blocks that <see cref="SstReader"/> has verified (every row walked by a <see cref="BlockIterator"/> when the
/// block was read from the store), so it checks framing only as far as reading needs: a malformed row is still a Data
/// error, never an out-of-range read, but row order is not checked again.
/// </remarks>
internal static class BlockSearch
{
    /// <summary>
    /// Finds the newest row of <paramref name="key"/> with a sequence at or below <paramref name="maxSequence"/>; false
    /// when the block's first row at or after that position is another key or there is none.
    /// </summary>
    public static bool TryFind(Block block, ReadOnlySpan<byte> key, ulong maxSequence, out BlockRow row)
    {
        var data = block.Data.Span;
        var rows = data[..block.EntriesEnd];

        // The last restart whose row sorts before the target; the answer is in the interval it starts (or is row 0).
        int low = 0, high = block.RestartCount - 1;
        while (low < high)
        {
            var mid = (low + high + 1) >>> 1;
            var restart = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(block.EntriesEnd + (4 * mid))..]);
            var restartHeader = ReadHeader(block, rows, restart);
            if (restartHeader.Shared != 0)
            {
                throw Corrupt(block, restart, "a restart row shares a prefix");
            }

            var restartKey = rows.Slice(restartHeader.SuffixStart, restartHeader.Unshared);
            if (KeyComparer.Compare(restartKey, restartHeader.Sequence, key, maxSequence) < 0)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        // Forward from that restart without rebuilding keys: "matched" is how many leading bytes the current row's key
        // shares with the target. A row sharing more than that with its predecessor differs from the target where the
        // predecessor did, so it sorts before the target as well; only a row sharing at most that many is compared,
        // and then only its stored suffix against the rest of the target.
        var matched = 0;
        var previousLength = 0;
        var offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(block.EntriesEnd + (4 * low))..]);
        while (offset < block.EntriesEnd)
        {
            var header = ReadHeader(block, rows, offset);
            if (header.Shared > previousLength)
            {
                throw Corrupt(block, offset, $"shared prefix longer than the previous key (shared={header.Shared} previous={previousLength})");
            }

            var keyLength = header.Shared + header.Unshared;
            if (keyLength > RowEntry.MaxKeyLength)
            {
                throw Corrupt(block, offset, $"bad key length (length={keyLength})");
            }

            previousLength = keyLength;
            if (header.Shared <= matched)
            {
                var suffix = rows.Slice(header.SuffixStart, header.Unshared);
                var rest = key[header.Shared..];
                var common = suffix.CommonPrefixLength(rest);
                matched = header.Shared + common;
                if (common < suffix.Length && common < rest.Length)
                {
                    if (suffix[common] > rest[common])
                    {
                        break; // the first row after the target is another key
                    }
                }
                else if (suffix.Length == rest.Length)
                {
                    if (header.Sequence <= maxSequence)
                    {
                        row = new BlockRow(header.ValueStart, header.ValueLength, header.Sequence, header.Kind, header.ExpireAt);
                        return true;
                    }
                }
                else if (suffix.Length > rest.Length)
                {
                    break; // a longer key starting with the target sorts after it
                }
            }

            offset = header.ValueStart + header.ValueLength;
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
