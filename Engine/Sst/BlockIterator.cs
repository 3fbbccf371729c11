using System.Buffers.Binary;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// Walks the rows of one <see cref="Block"/> forwards or backwards, decoding and bounds-checking each row as it goes
/// (a malformed row is a <see cref="ErrorKind.Data"/> error naming the object and block). Every step from one row to
/// the next also checks that the new row sorts after the previous one in internal order, which costs one comparison
/// of the key suffix just decoded: rows out of order behind a valid checksum fail wherever a walk meets them. Not
/// thread-safe; cheap to reuse through <see cref="Reset"/>.
/// </summary>
/// <remarks>
/// A fresh iterator is unpositioned: <see cref="MoveNext"/> then goes to the first row and <see cref="MovePrevious"/>
/// to the last. Once a move or seek returns false the iterator is exhausted until the next seek.
/// <see cref="Key"/> is valid until the next move; <see cref="Value"/> aliases the immutable block.
/// </remarks>
internal sealed class BlockIterator
{
    private const int Unpositioned = -1;
    private const int Exhausted = -2;

    private Block _block = null!;
    private byte[] _key = new byte[64];
    private int _keyLength;
    private int _current = Unpositioned;
    private int _next;
    private int _valueStart;
    private int _valueLength;

    public BlockIterator()
    {
    }

    public BlockIterator(Block block) => Reset(block);

    /// <summary>True when positioned on a row.</summary>
    public bool IsValid => _current >= 0;

    /// <summary>True when positioned on the block's last row.</summary>
    public bool IsLast => _current >= 0 && _next >= _block.EntriesEnd;

    public ReadOnlySpan<byte> Key => _key.AsSpan(0, _keyLength);

    public ReadOnlyMemory<byte> Value => _block.Data.Slice(_valueStart, _valueLength);

    public ulong Sequence { get; private set; }

    public RowKind Kind { get; private set; }

    public long? ExpireAt { get; private set; }

    /// <summary>The current row, with a copy of the key.</summary>
    public RowEntry Current => new(Key.ToArray(), Value, Sequence, Kind, ExpireAt);

    /// <summary>Points the iterator at <paramref name="block"/>, unpositioned.</summary>
    public void Reset(Block block)
    {
        _block = block;
        _current = Unpositioned;
        _keyLength = 0;
    }

    /// <summary>Lets go of the block (an iterator kept for reuse must not keep one alive); <see cref="Reset"/> before the next use.</summary>
    public void Detach()
    {
        _block = null!;
        _current = Exhausted;
        _keyLength = 0;
    }

    public bool SeekToFirst() => ParseFromRestart(0) || Exhaust();

    public bool SeekToLast()
    {
        if (!ParseFromRestart(_block.RestartCount - 1))
        {
            return Exhaust();
        }

        while (_next < _block.EntriesEnd)
        {
            ParseAt(_next);
        }

        return true;
    }

    /// <summary>Positions on the first row at or after (<paramref name="key"/>, <paramref name="sequence"/>) in internal order.</summary>
    public bool Seek(ReadOnlySpan<byte> key, ulong sequence = ulong.MaxValue)
    {
        // Find the last restart whose row sorts before the target, then scan forward from it.
        int low = 0, high = _block.RestartCount - 1;
        while (low < high)
        {
            var mid = (low + high + 1) >>> 1;
            ParseFromRestart(mid);
            if (KeyComparer.Compare(Key, Sequence, key, sequence) < 0)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        ParseFromRestart(low);
        while (KeyComparer.Compare(Key, Sequence, key, sequence) < 0)
        {
            if (_next >= _block.EntriesEnd)
            {
                return Exhaust();
            }

            ParseAt(_next);
        }

        return true;
    }

    /// <summary>Positions on the last row whose key is at or before <paramref name="key"/>.</summary>
    public bool SeekForPrevious(ReadOnlySpan<byte> key)
    {
        // (key, 0) is the last possible version of key: the answer is that row or the one before the first row after it.
        if (!Seek(key, 0))
        {
            return SeekToLast();
        }

        return KeyComparer.Compare(Key, Sequence, key, 0) == 0 || MovePrevious();
    }

    public bool MoveNext()
    {
        if (_current == Unpositioned)
        {
            return SeekToFirst();
        }

        if (_current == Exhausted || _next >= _block.EntriesEnd)
        {
            return Exhaust();
        }

        ParseAt(_next);
        return true;
    }

    public bool MovePrevious()
    {
        if (_current == Unpositioned)
        {
            return SeekToLast();
        }

        if (_current <= 0)
        {
            return Exhaust();
        }

        var target = _current;
        var restart = LastRestartBefore(target);
        ParseFromRestart(restart);
        while (_next < target)
        {
            ParseAt(_next);
        }

        if (_next != target)
        {
            throw Corrupt(target, "rows do not chain to the current row");
        }

        return true;
    }

    private int LastRestartBefore(int offset)
    {
        int low = 0, high = _block.RestartCount - 1;
        while (low < high)
        {
            var mid = (low + high + 1) >>> 1;
            if (_block.RestartAt(mid) < offset)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        return low;
    }

    private bool Exhaust()
    {
        _current = Exhausted;
        return false;
    }

    private bool ParseFromRestart(int index)
    {
        _keyLength = 0;
        ParseAt(_block.RestartAt(index));
        return true;
    }

    private void ParseAt(int offset)
    {
        var data = _block.Data.Span[.._block.EntriesEnd];
        var p = offset;
        if (!Varint.TryRead(data, ref p, out var shared) ||
            !Varint.TryRead(data, ref p, out var unshared) ||
            !Varint.TryRead(data, ref p, out var valueLength))
        {
            throw Corrupt(offset, "bad row header");
        }

        if (shared > (uint)_keyLength)
        {
            throw Corrupt(offset, $"shared prefix longer than the previous key (shared={shared} previous={_keyLength})");
        }

        var keyLength = (ulong)shared + unshared;
        if (keyLength == 0 || keyLength > RowEntry.MaxKeyLength)
        {
            throw Corrupt(offset, $"bad key length (length={keyLength})");
        }

        if (p >= data.Length)
        {
            throw Corrupt(offset, "row truncated before its flags");
        }

        var flags = data[p++];
        if ((flags & ~(BlockBuilder.KindMask | BlockBuilder.HasExpireFlag)) != 0 || (flags & BlockBuilder.KindMask) > (byte)RowKind.Merge)
        {
            throw Corrupt(offset, $"bad row flags (flags={flags:x2})");
        }

        var hasExpire = (flags & BlockBuilder.HasExpireFlag) != 0;
        var fixedLength = 8 + (hasExpire ? 8 : 0);
        if ((ulong)(data.Length - p) < (ulong)fixedLength + unshared + valueLength)
        {
            throw Corrupt(offset, $"row runs past the end of the block (key_suffix={unshared} value={valueLength})");
        }

        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(data[p..]);
        p += 8;
        var suffix = data.Slice(p + (hasExpire ? 8 : 0), (int)unshared);

        // The previous row, when there is one, is still in _key: the new key sorts after it exactly when its suffix
        // sorts after the previous key's bytes past the shared prefix (or the keys are equal and the sequence is lower).
        if (_keyLength > 0)
        {
            var order = suffix.SequenceCompareTo(_key.AsSpan((int)shared, _keyLength - (int)shared));
            if (order < 0 || (order == 0 && sequence >= Sequence))
            {
                throw Corrupt(offset, $"rows out of order: this row does not sort after the previous one (sequence={sequence} previous_sequence={Sequence})");
            }
        }

        Sequence = sequence;
        ExpireAt = hasExpire ? BinaryPrimitives.ReadInt64LittleEndian(data[p..]) : null;
        p += hasExpire ? 8 : 0;
        Kind = (RowKind)(flags & BlockBuilder.KindMask);

        if (_key.Length < (int)keyLength)
        {
            var bigger = new byte[Math.Max((int)keyLength, _key.Length * 2)];
            _key.AsSpan(0, (int)shared).CopyTo(bigger);
            _key = bigger;
        }

        suffix.CopyTo(_key.AsSpan((int)shared));
        _keyLength = (int)keyLength;
        p += (int)unshared;
        _valueStart = p;
        _valueLength = (int)valueLength;
        _current = offset;
        _next = p + (int)valueLength;
    }

    private SlateSharpException Corrupt(int entryOffset, string message) =>
        Errors.Data(_block.Path, _block.Offset, $"corrupt block row: {message} (row_offset={entryOffset})");
}
