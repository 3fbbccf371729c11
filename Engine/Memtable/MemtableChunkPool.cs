namespace SlateSharp.Memtable;

/// <summary>
/// Full-size arena chunks (<see cref="MemtableArena.MaxChunkBytes"/>) that flushed memtables gave back, for the next
/// memtables to fill, so a long fill does not allocate and free a chunk (and fault in its pages) for every megabyte it
/// writes. Chunks come back only once nothing can read their memtable (<see cref="MemoryTable.ReleaseHold"/>); one the
/// pool does not keep is freed at once. Thread-safe.
/// </summary>
/// <remarks>
/// How many chunks it keeps is its <see cref="LimitBytes"/>, which the database moves: the whole unflushed budget while
/// frozen memtables wait to be flushed (writers are ahead and will fill every chunk the flushes give back, so freeing
/// them would only fault pages in anew), and once none waits what the active memtable can still take before it is full
/// (so the memory alive is the memtables' own, as in an engine that frees a flushed memtable; an idle database keeps
/// at most a memtable). A chunk is allocated only when the pool is empty, so the chunks alive never exceed the most the
/// memtables held at once.
/// </remarks>
internal sealed class MemtableChunkPool
{
    private readonly Lock _lock = new();
    private readonly MemtableChunk[] _chunks;
    private int _count;
    private int _limit;
    private long _reused;
    private long _dropped;
    private long _allocatedBytes;
    private bool _closed;

    /// <param name="capacityBytes">The most the pool can ever keep (its limit's ceiling), rounded down to whole chunks (at least one).</param>
    /// <param name="limitBytes">The most it keeps to begin with (<see cref="LimitBytes"/>); by default its capacity.</param>
    public MemtableChunkPool(long capacityBytes, long limitBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        _chunks = new MemtableChunk[ChunksIn(capacityBytes)];
        _limit = Math.Min(ChunksIn(limitBytes), _chunks.Length);
    }

    /// <summary>
    /// The most bytes of chunks the pool keeps now, in whole chunks, at least one and at most its capacity. Lowering it
    /// frees the chunks above it at once.
    /// </summary>
    public long LimitBytes
    {
        get
        {
            lock (_lock)
            {
                return (long)_limit * MemtableArena.MaxChunkBytes;
            }
        }

        set
        {
            lock (_lock)
            {
                _limit = Math.Min(ChunksIn(value), _chunks.Length);
                while (_count > _limit)
                {
                    _chunks[--_count].Free();
                    _chunks[_count] = null!;
                    _dropped++;
                }
            }
        }
    }

    /// <summary>Bytes of the chunks the pool holds now.</summary>
    public long PooledBytes
    {
        get
        {
            lock (_lock)
            {
                return (long)_count * MemtableArena.MaxChunkBytes;
            }
        }
    }

    /// <summary>How many chunks were handed out again since the pool was made.</summary>
    public long Reused => Interlocked.Read(ref _reused);

    /// <summary>How many full-size chunks the pool freed (returned above its limit, or trimmed by lowering it).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Native bytes of the chunks allocated through <see cref="Allocate"/> and not yet freed: in memtables or in the pool.</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    /// <summary>A new chunk of <paramref name="bytes"/>, counted in <see cref="AllocatedBytes"/> until it is freed.</summary>
    public MemtableChunk Allocate(int bytes)
    {
        var chunk = new MemtableChunk(bytes, this);
        Interlocked.Add(ref _allocatedBytes, bytes);
        return chunk;
    }

    /// <summary>A chunk of <see cref="MemtableArena.MaxChunkBytes"/> whose bytes are stale, or null when the pool is empty.</summary>
    public MemtableChunk? TryRent()
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                return null;
            }

            var chunk = _chunks[--_count];
            _chunks[_count] = null!;
            _reused++;
            return chunk;
        }
    }

    /// <summary>
    /// Takes <paramref name="chunk"/> back, or frees it when the pool is at its limit or it is not full-size; no reader
    /// may still reach it.
    /// </summary>
    public void Return(MemtableChunk chunk)
    {
        chunk.Owner = null;
        if (chunk.Length == MemtableArena.MaxChunkBytes)
        {
            lock (_lock)
            {
                if (_count < _limit && !_closed)
                {
                    _chunks[_count++] = chunk;
                    return;
                }

                _dropped++;
            }
        }

        chunk.Free();
    }

    /// <summary>The pool is unreachable, and so is every arena that could return a chunk: nothing reads its chunks.</summary>
    ~MemtableChunkPool()
    {
        for (var i = 0; i < _count; i++)
        {
            _chunks[i].Free();
        }
    }

    /// <summary>Frees every chunk the pool holds and every chunk returned later (the database closed).</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            while (_count > 0)
            {
                _chunks[--_count].Free();
                _chunks[_count] = null!;
            }
        }
    }

    /// <summary>A chunk this pool allocated was freed.</summary>
    internal void Freed(int bytes) => Interlocked.Add(ref _allocatedBytes, -bytes);

    private static int ChunksIn(long bytes) => (int)Math.Clamp(bytes / MemtableArena.MaxChunkBytes, 1, 1 << 16);
}
