namespace SlateSharp.Memtable;

/// <summary>
/// Full-size arena chunks (<see cref="MemtableArena.MaxChunkBytes"/>) that flushed memtables gave back, for the next
/// memtables to fill. Without it every flushed memtable's chunks are large-object-heap garbage until a gen-2
/// collection, and a long fill's working set grows to a multiple of its unflushed budget (docs/benchmarks.md, "Memory
/// over a long fill"). Chunks come back only once nothing can read their memtable (<see cref="MemoryTable.ReleaseHold"/>).
/// Thread-safe.
/// </summary>
/// <remarks>
/// How many chunks it keeps is its <see cref="LimitBytes"/>, which the database moves: the whole unflushed budget while
/// frozen memtables wait to be flushed (writers are ahead and will fill every chunk the flushes give back, so dropping
/// them would only make garbage and allocate anew), one memtable once none waits (an idle database keeps no more). A
/// chunk is allocated only when the pool is empty, so the chunks alive never exceed the most the memtables held at once.
/// </remarks>
internal sealed class MemtableChunkPool
{
    private readonly Lock _lock = new();
    private readonly byte[][] _chunks;
    private int _count;
    private int _limit;
    private long _reused;
    private long _dropped;

    /// <param name="capacityBytes">The most the pool can ever keep (its limit's ceiling), rounded down to whole chunks (at least one).</param>
    /// <param name="limitBytes">The most it keeps to begin with (<see cref="LimitBytes"/>); by default its capacity.</param>
    public MemtableChunkPool(long capacityBytes, long limitBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        _chunks = new byte[ChunksIn(capacityBytes)][];
        _limit = Math.Min(ChunksIn(limitBytes), _chunks.Length);
    }

    /// <summary>
    /// The most bytes of chunks the pool keeps now, in whole chunks, at least one and at most its capacity. Lowering it
    /// lets the chunks above it go to the GC at once.
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
                    _chunks[--_count] = null!;
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

    /// <summary>How many full-size chunks the pool let go to the GC (returned above its limit, or trimmed by lowering it).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>A chunk of <see cref="MemtableArena.MaxChunkBytes"/> whose bytes are stale, or null when the pool is empty.</summary>
    public byte[]? TryRent()
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

    /// <summary>Takes <paramref name="chunk"/> back, unless the pool is at its limit; no reader may still reach it.</summary>
    public void Return(byte[] chunk)
    {
        if (chunk.Length != MemtableArena.MaxChunkBytes)
        {
            return;
        }

        lock (_lock)
        {
            if (_count < _limit)
            {
                _chunks[_count++] = chunk;
            }
            else
            {
                _dropped++;
            }
        }
    }

    private static int ChunksIn(long bytes) => (int)Math.Clamp(bytes / MemtableArena.MaxChunkBytes, 1, 1 << 16);
}
