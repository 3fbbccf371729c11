using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// Iterates the rows of one SST in internal order, forwards or backwards, reading one data block per ranged GET
/// (through the block cache). Moves within a loaded block complete synchronously. Not thread-safe.
/// </summary>
/// <remarks>
/// A fresh iterator is unpositioned: <see cref="MoveNextAsync"/> goes to the first row, <see cref="MovePreviousAsync"/>
/// to the last, so <c>while (await it.MoveNextAsync())</c> scans everything. Seeks position on a row and return
/// whether there was one. After a call returns false the iterator is exhausted until the next seek.
/// A walk that goes forwards from the first row to the end counts the rows and checks the count against the
/// metadata's entry count (a Data error if they differ): a full scan proves that no row went missing or appeared.
/// </remarks>
internal sealed class SstIterator
{
    private readonly SstReader _reader;
    private readonly int _readaheadBytes;
    private readonly BlockIterator _rows = new();
    private Block[]? _ahead;
    private int _aheadFirst;
    private Block? _block;
    private int _blockIndex = -1;
    private bool _positioned;
    private bool _valid;
    private bool _counting;
    private long _counted;

    public SstIterator(SstReader reader) => _reader = reader;

    /// <summary>An iterator that reads <paramref name="readaheadBytes"/> of blocks at a time, bypassing the block cache.</summary>
    public SstIterator(SstReader reader, int readaheadBytes)
    {
        _reader = reader;
        _readaheadBytes = readaheadBytes;
    }

    /// <summary>True when positioned on a row.</summary>
    public bool IsValid => _valid;

    /// <summary>The current row (copies the key).</summary>
    public RowEntry Current => Valid().Current;

    /// <summary>The current key, valid until the next move.</summary>
    public ReadOnlySpan<byte> CurrentKey => Valid().Key;

    public ReadOnlyMemory<byte> CurrentValue => Valid().Value;

    public ulong CurrentSequence => Valid().Sequence;

    public RowKind CurrentKind => Valid().Kind;

    /// <summary>Positions on the first row.</summary>
    public async ValueTask<bool> SeekToFirstAsync(CancellationToken cancellationToken = default)
    {
        var found = await ForwardFromAsync(0, cancellationToken).ConfigureAwait(false);
        _counting = found;
        _counted = 1;
        return found;
    }

    /// <summary>Positions on the last row.</summary>
    public ValueTask<bool> SeekToLastAsync(CancellationToken cancellationToken = default)
    {
        _counting = false;
        return BackwardFromAsync(_reader.Index.Count - 1, cancellationToken);
    }

    /// <summary>
    /// Positions on the first row at or after <paramref name="key"/> (with a sequence at or below
    /// <paramref name="maxSequence"/> when the key matches). Reads exactly one data block when such a row exists.
    /// </summary>
    public async ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, ulong maxSequence = ulong.MaxValue, CancellationToken cancellationToken = default)
    {
        _positioned = true;
        _counting = false;
        var index = _reader.Index.FindBlock(key.Span, maxSequence);
        if (index == _reader.Index.Count)
        {
            return _valid = false;
        }

        await LoadAsync(index, cancellationToken).ConfigureAwait(false);
        return _rows.Seek(key.Span, maxSequence) ? _valid = true : await ForwardFromAsync(index + 1, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Positions on the last row whose key is at or before <paramref name="key"/> (for reverse scans).</summary>
    public async ValueTask<bool> SeekForPreviousAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        _positioned = true;
        _counting = false;
        var index = _reader.Index.FindBlock(key.Span, 0);
        if (index == _reader.Index.Count)
        {
            return await SeekToLastAsync(cancellationToken).ConfigureAwait(false);
        }

        await LoadAsync(index, cancellationToken).ConfigureAwait(false);
        return _rows.SeekForPrevious(key.Span) ? _valid = true : await BackwardFromAsync(index - 1, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves to the next row (the first row when unpositioned).</summary>
    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        if (!_positioned)
        {
            return SeekToFirstAsync(cancellationToken);
        }

        if (!_valid)
        {
            return ValueTask.FromResult(false);
        }

        if (_rows.MoveNext())
        {
            _counted++;
            return ValueTask.FromResult(true);
        }

        return NextBlockAsync(cancellationToken);
    }

    /// <summary>Moves to the previous row (the last row when unpositioned).</summary>
    public ValueTask<bool> MovePreviousAsync(CancellationToken cancellationToken = default)
    {
        if (!_positioned)
        {
            return SeekToLastAsync(cancellationToken);
        }

        if (!_valid)
        {
            return ValueTask.FromResult(false);
        }

        _counting = false;
        return _rows.MovePrevious() ? ValueTask.FromResult(true) : BackwardFromAsync(_blockIndex - 1, cancellationToken);
    }

    private async ValueTask<bool> NextBlockAsync(CancellationToken cancellationToken)
    {
        var found = await ForwardFromAsync(_blockIndex + 1, cancellationToken).ConfigureAwait(false);
        if (found)
        {
            _counted++;
        }
        else if (_counting)
        {
            _counting = false;
            if (_counted != _reader.Info.EntryCount)
            {
                throw Errors.Data(_reader.Name, $"a full scan's row count differs from the sst's metadata (scanned={_counted} entry_count={_reader.Info.EntryCount})");
            }
        }

        return found;
    }

    private async ValueTask<bool> ForwardFromAsync(int index, CancellationToken cancellationToken)
    {
        _positioned = true;
        for (; index < _reader.Index.Count; index++)
        {
            await LoadAsync(index, cancellationToken).ConfigureAwait(false);
            if (_rows.SeekToFirst())
            {
                return _valid = true;
            }
        }

        return _valid = false;
    }

    private async ValueTask<bool> BackwardFromAsync(int index, CancellationToken cancellationToken)
    {
        _positioned = true;
        for (; index >= 0; index--)
        {
            await LoadAsync(index, cancellationToken).ConfigureAwait(false);
            if (_rows.SeekToLast())
            {
                return _valid = true;
            }
        }

        return _valid = false;
    }

    private async ValueTask LoadAsync(int index, CancellationToken cancellationToken)
    {
        _valid = false;
        if (_block is null || _blockIndex != index)
        {
            _block = _readaheadBytes > 0 ? await ReadAheadAsync(index, cancellationToken).ConfigureAwait(false) : await _reader.ReadBlockAsync(index, cancellationToken).ConfigureAwait(false);
            _blockIndex = index;
        }

        _rows.Reset(_block);
    }

    private async ValueTask<Block> ReadAheadAsync(int index, CancellationToken cancellationToken)
    {
        if (_ahead is null || index < _aheadFirst || index >= _aheadFirst + _ahead.Length)
        {
            _ahead = await _reader.ReadBlocksAsync(index, _readaheadBytes, cancellationToken).ConfigureAwait(false);
            _aheadFirst = index;
        }

        return _ahead[index - _aheadFirst];
    }

    private BlockIterator Valid() =>
        _valid ? _rows : throw Errors.Internal("sst iterator is not positioned on a row");
}
