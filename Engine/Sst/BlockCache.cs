namespace SlateSharp.Sst;

/// <summary>
/// A thread-safe LRU cache of decoded data blocks, bounded by the bytes the blocks hold. Keyed by (SST object path,
/// block offset); SST objects are immutable, so entries never go stale. Blocks larger than the whole capacity are not
/// cached. Counters are approximate under concurrency only in the sense that they are read without the lock.
/// </summary>
internal sealed class BlockCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Path, long Offset), LinkedListNode<CachedBlock>> _map = [];
    private readonly LinkedList<CachedBlock> _lru = new();
    private long _size;
    private long _hits;
    private long _misses;
    private long _evictions;

    /// <summary>Creates a cache holding at most <paramref name="capacityBytes"/> bytes of blocks.</summary>
    public BlockCache(long capacityBytes)
    {
        if (capacityBytes < 0)
        {
            throw Errors.Invalid($"block cache capacity must not be negative (capacity={capacityBytes})");
        }

        Capacity = capacityBytes;
    }

    public long Capacity { get; }

    /// <summary>Bytes currently charged.</summary>
    public long Size
    {
        get
        {
            lock (_lock)
            {
                return _size;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Looks a block up and marks it recently used; counts a hit or a miss.</summary>
    public bool TryGet(string path, long offset, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Block? block)
    {
        lock (_lock)
        {
            if (_map.TryGetValue((path, offset), out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                block = node.Value.Block;
                _hits++;
                return true;
            }

            _misses++;
        }

        block = null;
        return false;
    }

    /// <summary>Adds or replaces a block, evicting the least recently used ones to stay within capacity.</summary>
    public void Insert(string path, long offset, Block block)
    {
        var charge = block.Size + path.Length;
        if (charge > Capacity)
        {
            return;
        }

        lock (_lock)
        {
            if (_map.Remove((path, offset), out var existing))
            {
                _lru.Remove(existing);
                _size -= existing.Value.Charge;
            }

            while (_size + charge > Capacity && _lru.Last is { } oldest)
            {
                _lru.RemoveLast();
                _map.Remove((oldest.Value.Path, oldest.Value.Offset));
                _size -= oldest.Value.Charge;
                _evictions++;
            }

            var node = _lru.AddFirst(new CachedBlock(path, offset, block, charge));
            _map[(path, offset)] = node;
            _size += charge;
        }
    }

    /// <summary>Drops every block.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _map.Clear();
            _lru.Clear();
            _size = 0;
        }
    }

    private sealed record CachedBlock(string Path, long Offset, Block Block, long Charge);
}
