using System.Runtime.CompilerServices;
using SlateSharp.Common;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// Streams rows, in <see cref="KeyComparer"/> order, into an SST written to a <see cref="Stream"/> (typically a pipe
/// into a streaming upload). Finished blocks wait in a small pooled buffer until the caller flushes them, so memory
/// stays near one block plus <see cref="SstBuilderOptions.FlushThreshold"/>, plus the index (one last key per block)
/// and 8 bytes per distinct key for the bloom filter, however large the SST.
/// </summary>
/// <remarks>
/// Contract: call <see cref="Add"/> for each row and <see cref="FlushAsync"/> whenever it returns true (or use
/// <see cref="AddAsync"/>, which does both), then <see cref="FinishAsync"/> once. An SST must hold at least one row:
/// finishing an empty builder is an <see cref="ErrorKind.Internal"/> error (callers skip empty outputs). A failed
/// builder leaves whatever it wrote in the stream; the caller discards the object. The stream is not disposed.
/// Not thread-safe.
/// </remarks>
internal sealed class SstBuilder : IDisposable
{
    private readonly SstBuilderOptions _options;
    private readonly Stream _output;
    private readonly BlockBuilder _block;
    private readonly PooledBufferWriter _pending = new(16 << 10);
    private readonly ChunkedList<SstIndex.Entry> _index = new();
    private readonly ChunkedList<ulong> _keyHashes = new();
    private byte[] _lastKey = new byte[64];
    private int _lastKeyLength;
    private ulong _lastSequence;
    private byte[]? _firstKey;
    private long _written;
    private long _putCount;
    private long _deleteCount;
    private long _mergeCount;
    private ulong _minSequence = ulong.MaxValue;
    private ulong _maxSequence;
    private int _maxRawBlockLength;
    private bool _finished;

    public SstBuilder(SstBuilderOptions options, Stream output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        options.Validate();
        _options = options;
        _output = output;
        _block = new BlockBuilder(options.RestartInterval);
    }

    /// <summary>Rows added so far.</summary>
    public long EntryCount { get; private set; }

    /// <summary>Finished bytes waiting for <see cref="FlushAsync"/>.</summary>
    public int PendingBytes => _pending.WrittenCount;

    /// <summary>The SST's size so far (written, pending and the open block), to cut outputs at a target size.</summary>
    public long EstimatedSize => _written + _pending.WrittenCount + _block.CurrentSize;

    /// <summary>
    /// Adds a row, which must sort strictly after the previous one (an out-of-order or duplicate row is an
    /// <see cref="ErrorKind.Internal"/> error). Returns true when finished blocks should be flushed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, RowKind kind, long? expireAt)
    {
        if (_finished)
        {
            throw Errors.Internal("sst builder used after finish");
        }

        CheckRow(key, value, sequence, kind);
        var entrySize = BlockBuilder.MaxEntrySize(key.Length, value.Length, expireAt.HasValue);
        if (!_block.IsEmpty && _block.CurrentSize + entrySize > _options.BlockSize)
        {
            FinishBlock();
        }

        var sameKey = EntryCount > 0 && key.SequenceEqual(_lastKey.AsSpan(0, _lastKeyLength));
        if (!sameKey && _options.BloomBitsPerKey > 0)
        {
            _keyHashes.Add(BloomFilter.Hash(key));
        }

        _block.Add(key, value, sequence, kind, expireAt);
        if (!sameKey)
        {
            if (_lastKey.Length < key.Length)
            {
                _lastKey = new byte[Math.Max(key.Length, _lastKey.Length * 2)];
            }

            key.CopyTo(_lastKey);
            _lastKeyLength = key.Length;
        }

        _firstKey ??= key.ToArray();
        _lastSequence = sequence;
        _minSequence = Math.Min(_minSequence, sequence);
        _maxSequence = Math.Max(_maxSequence, sequence);
        EntryCount++;
        switch (kind)
        {
            case RowKind.Put: _putCount++; break;
            case RowKind.Delete: _deleteCount++; break;
            default: _mergeCount++; break;
        }

        return _pending.WrittenCount >= _options.FlushThreshold;
    }

    /// <summary>Adds a row and flushes finished blocks when enough have accumulated.</summary>
    public ValueTask AddAsync(RowEntry row, CancellationToken cancellationToken = default) =>
        Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt) ? FlushAsync(cancellationToken) : ValueTask.CompletedTask;

    /// <summary>Writes finished blocks to the stream.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        await _output.WriteAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _written += _pending.WrittenCount;
        _pending.Clear();
    }

    /// <summary>Writes the last block, the filter, the index, the metadata and the footer, and flushes the stream.</summary>
    public async ValueTask<SstInfo> FinishAsync(CancellationToken cancellationToken = default)
    {
        if (_finished)
        {
            throw Errors.Internal("sst builder finished twice");
        }

        if (EntryCount == 0)
        {
            throw Errors.Internal("cannot finish an sst without rows; skip empty outputs");
        }

        _finished = true;
        FinishBlock();
        var dataEnd = Position;
        long filterOffset = 0;
        var filterLength = 0;
        if (_options.BloomBitsPerKey > 0)
        {
            filterOffset = Position;
            BloomFilter.EncodeChunks(_keyHashes, _options.BloomBitsPerKey, _pending);
            filterLength = (int)(Position - filterOffset);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        var indexOffset = Position;
        SstIndex.Encode(_index, _pending);
        var indexLength = checked((int)(Position - indexOffset));

        var metadata = new SstMetadata(
            _options.Codec, _index.Count, _maxRawBlockLength, _options.BlockSize, EntryCount, _putCount, _deleteCount, _mergeCount,
            _minSequence, _maxSequence, filterOffset, filterLength, indexOffset, indexLength, _firstKey!, _lastKey.AsSpan(0, _lastKeyLength).ToArray());
        var metadataOffset = Position;
        metadata.Encode(_pending);
        var footer = new SstFooter(dataEnd, metadataOffset, (int)(Position - metadataOffset), SstFormat.CurrentVersion);
        footer.Write(_pending.GetSpan(SstFooter.Length));
        _pending.Advance(SstFooter.Length);
        var size = Position;

        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return metadata.ToInfo(size, SstFormat.CurrentVersion);
    }

    public void Dispose()
    {
        _block.Dispose();
        _pending.Dispose();
    }

    private long Position => _written + _pending.WrittenCount;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckRow(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, RowKind kind)
    {
        if (key.Length is 0 or > RowEntry.MaxKeyLength)
        {
            throw Errors.Invalid($"key length out of range (length={key.Length} min=1 max={RowEntry.MaxKeyLength})");
        }

        if (value.Length > RowEntry.MaxValueLength)
        {
            throw Errors.Invalid($"value too long (length={value.Length} max={RowEntry.MaxValueLength})");
        }

        if (kind is not (RowKind.Put or RowKind.Delete or RowKind.Merge))
        {
            throw Errors.Internal($"unknown row kind (kind={(int)kind})");
        }

        if (EntryCount > 0 && KeyComparer.Compare(key, sequence, _lastKey.AsSpan(0, _lastKeyLength), _lastSequence) <= 0)
        {
            throw Errors.Internal(
                $"sst rows out of order: each row must sort after the previous one (key={Convert.ToHexString(key)} sequence={sequence} " +
                $"previous_key={Convert.ToHexString(_lastKey.AsSpan(0, _lastKeyLength))} previous_sequence={_lastSequence})");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FinishBlock()
    {
        if (_block.IsEmpty)
        {
            return;
        }

        var raw = _block.Finish();
        var offset = Position;
        var length = Block.WriteStored(raw, _options.Codec, _options.ZstdLevel, _pending, out _);
        _maxRawBlockLength = Math.Max(_maxRawBlockLength, raw.Length);
        _index.Add(new SstIndex.Entry(offset, length, _lastSequence, _lastKey.AsSpan(0, _lastKeyLength).ToArray()));
        _block.Reset();
    }
}
