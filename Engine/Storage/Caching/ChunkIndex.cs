namespace SlateSharp.Storage.Caching;

/// <summary>One cached chunk: the object's id (a hash of its cache key, also its directory name) and the chunk number.</summary>
internal readonly record struct ChunkId(string ObjectId, long Index);

/// <summary>What the cache knows of an object, from the chunks it fetched or the first chunk file it read back.</summary>
internal sealed record CachedObjectInfo(long Size, string Version, DateTimeOffset LastModified);

/// <summary>
/// The in-memory index of the chunk files on disk: which chunks exist, their bytes, and their recency (LRU). It does
/// no I/O: <see cref="Add"/> returns the chunks to evict and the caller deletes their files. After a restart the
/// directory scan adds the files oldest first (by write time), so recency survives approximately. Thread-safe.
/// </summary>
internal sealed class ChunkIndex(long maxBytes)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ChunkId, LinkedListNode<Entry>> _chunks = [];
    private readonly LinkedList<Entry> _lru = new();
    private readonly Dictionary<string, ObjectEntry> _objects = new(StringComparer.Ordinal);
    private long _bytes;

    public long MaxBytes => maxBytes;

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _chunks.Count;
            }
        }
    }

    /// <summary>True when the chunk is indexed; marks it most recently used.</summary>
    public bool Touch(ChunkId id)
    {
        lock (_lock)
        {
            if (!_chunks.TryGetValue(id, out var node))
            {
                return false;
            }

            _lru.Remove(node);
            _lru.AddFirst(node);
            return true;
        }
    }

    /// <summary>The object's size and version when known (null after a restart until a chunk file of it is read).</summary>
    public CachedObjectInfo? InfoOf(string objectId)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(objectId, out var entry) ? entry.Info : null;
        }
    }

    /// <summary>Records what a chunk file said about its object, if the object still has chunks.</summary>
    public void SetInfo(string objectId, CachedObjectInfo info)
    {
        lock (_lock)
        {
            if (_objects.TryGetValue(objectId, out var entry))
            {
                entry.Info ??= info;
            }
        }
    }

    /// <summary>Some chunk of the object, to read its header from, or null when none is indexed.</summary>
    public long? AnyChunkOf(string objectId)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(objectId, out var entry) && entry.Chunks.Count > 0 ? entry.Chunks.Min : null;
        }
    }

    /// <summary>
    /// Indexes a chunk file of <paramref name="bytes"/> just written (or found at open) as the most recently used, and
    /// returns the least recently used chunks that must go to stay within the bound. A file larger than the bound is
    /// not admitted (it comes back in the evicted list itself).
    /// </summary>
    public List<ChunkId> Add(ChunkId id, long bytes, CachedObjectInfo? info)
    {
        var evicted = new List<ChunkId>();
        lock (_lock)
        {
            RemoveLocked(id);
            if (bytes > maxBytes)
            {
                evicted.Add(id);
                return evicted;
            }

            if (!_objects.TryGetValue(id.ObjectId, out var entry))
            {
                entry = new ObjectEntry();
                _objects.Add(id.ObjectId, entry);
            }

            entry.Info ??= info;
            entry.Chunks.Add(id.Index);
            _chunks.Add(id, _lru.AddFirst(new Entry(id, bytes)));
            _bytes += bytes;
            while (_bytes > maxBytes && _lru.Last is { } oldest)
            {
                evicted.Add(oldest.Value.Id);
                RemoveLocked(oldest.Value.Id);
            }
        }

        return evicted;
    }

    /// <summary>Drops a chunk (its file was found missing or corrupt, or is being deleted).</summary>
    public void Remove(ChunkId id)
    {
        lock (_lock)
        {
            RemoveLocked(id);
        }
    }

    /// <summary>Drops every chunk of an object and its info; returns the chunk numbers dropped.</summary>
    public List<long> RemoveObject(string objectId)
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue(objectId, out var entry))
            {
                return [];
            }

            var removed = entry.Chunks.ToList();
            foreach (var index in removed)
            {
                RemoveLocked(new ChunkId(objectId, index));
            }

            _objects.Remove(objectId);
            return removed;
        }
    }

    private void RemoveLocked(ChunkId id)
    {
        if (!_chunks.Remove(id, out var node))
        {
            return;
        }

        _lru.Remove(node);
        _bytes -= node.Value.Bytes;
        var entry = _objects[id.ObjectId];
        entry.Chunks.Remove(id.Index);
        if (entry.Chunks.Count == 0)
        {
            _objects.Remove(id.ObjectId);
        }
    }

    private sealed record Entry(ChunkId Id, long Bytes);

    private sealed class ObjectEntry
    {
        public SortedSet<long> Chunks { get; } = [];

        public CachedObjectInfo? Info { get; set; }
    }
}
