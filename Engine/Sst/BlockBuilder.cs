using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// Builds the raw (uncompressed) bytes of one data block: prefix-compressed rows with a full key every
/// <c>restartInterval</c> rows, then the restart offsets and their count (docs/format/sst.md, "Data block").
/// Rows must arrive in <see cref="KeyComparer"/> order; the SST builder checks that. Reusable after <see cref="Reset"/>.
/// </summary>
internal sealed class BlockBuilder : IDisposable
{
    /// <summary>Flags byte: bits 0-1 hold the <see cref="RowKind"/>.</summary>
    public const byte KindMask = 0x03;

    /// <summary>Flags byte: an expire time (i64) follows the sequence number.</summary>
    public const byte HasExpireFlag = 0x04;

    private readonly int _restartInterval;
    private readonly PooledBufferWriter _data = new(8 << 10);
    private readonly List<int> _restarts = [];
    private byte[] _lastKey = new byte[64];
    private int _lastKeyLength;
    private int _sinceRestart;
    private bool _finished;

    public BlockBuilder(int restartInterval = SstFormat.DefaultRestartInterval)
    {
        if (restartInterval < 1)
        {
            throw Errors.Invalid($"restart interval must be at least 1 (restart_interval={restartInterval})");
        }

        _restartInterval = restartInterval;
    }

    /// <summary>Rows added since the last reset.</summary>
    public int EntryCount { get; private set; }

    /// <summary>True when no row has been added since the last reset.</summary>
    public bool IsEmpty => EntryCount == 0;

    /// <summary>The size the block would have if finished now.</summary>
    public int CurrentSize => _data.WrittenCount + (4 * _restarts.Count) + 4;

    /// <summary>An upper bound on the bytes one row adds (header, restart slot, key, value).</summary>
    public static int MaxEntrySize(int keyLength, int valueLength, bool hasExpire) =>
        (3 * Varint.MaxLength32) + 1 + 8 + (hasExpire ? 8 : 0) + 4 + keyLength + valueLength;

    /// <summary>Appends one row. The caller guarantees order and the key/value limits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, RowKind kind, long? expireAt)
    {
        if (_finished)
        {
            throw Errors.Internal("block builder used after finish without reset");
        }

        var shared = 0;
        if (_sinceRestart >= _restartInterval || EntryCount == 0)
        {
            _restarts.Add(_data.WrittenCount);
            _sinceRestart = 0;
        }
        else
        {
            shared = key.CommonPrefixLength(_lastKey.AsSpan(0, _lastKeyLength));
        }

        var unshared = key.Length - shared;
        var span = _data.GetSpan(MaxEntrySize(key.Length, value.Length, expireAt.HasValue));
        var p = Varint.Write(span, (uint)shared);
        p += Varint.Write(span[p..], (uint)unshared);
        p += Varint.Write(span[p..], (uint)value.Length);
        span[p++] = (byte)((byte)kind | (expireAt.HasValue ? HasExpireFlag : 0));
        BinaryPrimitives.WriteUInt64LittleEndian(span[p..], sequence);
        p += 8;
        if (expireAt is { } expire)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[p..], expire);
            p += 8;
        }

        key[shared..].CopyTo(span[p..]);
        p += unshared;
        value.CopyTo(span[p..]);
        p += value.Length;
        _data.Advance(p);

        if (_lastKey.Length < key.Length)
        {
            _lastKey = new byte[Math.Max(key.Length, _lastKey.Length * 2)];
        }

        key.CopyTo(_lastKey);
        _lastKeyLength = key.Length;
        _sinceRestart++;
        EntryCount++;
    }

    /// <summary>Appends the restart array and returns the finished block, valid until <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        if (!_finished)
        {
            var span = _data.GetSpan((4 * _restarts.Count) + 4);
            var p = 0;
            foreach (var restart in _restarts)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(span[p..], (uint)restart);
                p += 4;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(span[p..], (uint)_restarts.Count);
            _data.Advance(p + 4);
            _finished = true;
        }

        return _data.WrittenSpan;
    }

    /// <summary>Starts a new block, keeping the buffers.</summary>
    public void Reset()
    {
        _data.Clear();
        _restarts.Clear();
        _lastKeyLength = 0;
        _sinceRestart = 0;
        EntryCount = 0;
        _finished = false;
    }

    public void Dispose() => _data.Dispose();
}
