namespace SlateSharp.Memtable;

/// <summary>
/// Full-size arena chunks (<see cref="MemtableArena.MaxChunkBytes"/>) that flushed memtables gave back, for the next
/// memtables to fill. Without it every flushed memtable's chunks are large-object-heap garbage until a gen-2
/// collection, and a long fill's working set grows to a multiple of its unflushed budget (docs/benchmarks.md, "Memory
/// over a long fill"). Holds at most <see cref="CapacityChunks"/>; a chunk returned beyond that is left to the GC.
/// Chunks come back only once nothing can read their memtable (<see cref="MemoryTable.ReleaseHold"/>). Thread-safe.
/// </summary>
internal sealed class MemtableChunkPool
{
    private readonly Lock _lock = new();
    private readonly byte[][] _chunks;
    private int _count;
    private long _reused;

    /// <param name="capacityBytes">The most the pool keeps, rounded down to whole chunks (at least one).</param>
    public MemtableChunkPool(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        _chunks = new byte[(int)Math.Clamp(capacityBytes / MemtableArena.MaxChunkBytes, 1, 1 << 16)][];
    }

    /// <summary>How many chunks the pool keeps at most.</summary>
    public int CapacityChunks => _chunks.Length;

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

    /// <summary>Takes <paramref name="chunk"/> back, unless the pool is full; no reader may still reach it.</summary>
    public void Return(byte[] chunk)
    {
        if (chunk.Length != MemtableArena.MaxChunkBytes)
        {
            return;
        }

        lock (_lock)
        {
            if (_count < _chunks.Length)
            {
                _chunks[_count++] = chunk;
            }
        }
    }
}
