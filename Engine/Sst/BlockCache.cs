using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace SlateSharp.Sst;

/// <summary>
/// A thread-safe cache of decoded data blocks, bounded by the bytes the blocks hold. Keyed by (SST object path,
/// block offset); SST objects are immutable, so entries never go stale. Blocks larger than the whole capacity are not
/// cached.
/// </summary>
/// <remarks>
/// A hit takes no lock and moves nothing: it looks the block up in a concurrent map by the path's 64-bit hash (worked
/// out once per SST, <see cref="SourceOf"/>) and the offset, checks the path itself, and marks the entry referenced.
/// Eviction is CLOCK (second chance), under the lock that inserts take: the oldest entry goes unless it was read since
/// it was last passed over, in which case it is cleared and goes round again. So a block read between two evictions
/// survives the next one, as under LRU, without a list update on every hit. Counters are approximate under
/// concurrency only in the sense that they are read without the lock.
/// </remarks>
internal sealed class BlockCache
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<(ulong PathHash, long Offset), Entry> _map = new();
    private readonly Queue<Entry> _clock = new(); // insertion order; guarded by _lock, as is _size
    private long _size;
    private long _hits;
    private long _misses;
    private long _evictions;

    /// <summary>
    /// Creates a cache holding at most <paramref name="capacityBytes"/> bytes of blocks; with
    /// <paramref name="reuseBuffers"/>, the buffers of evicted blocks that nothing reads any more go to new blocks
    /// (<see cref="Recycler"/>).
    /// </summary>
    public BlockCache(long capacityBytes, bool reuseBuffers = false)
    {
        if (capacityBytes < 0)
        {
            throw Errors.Invalid($"block cache capacity must not be negative (capacity={capacityBytes})");
        }

        Capacity = capacityBytes;
        Recycler = reuseBuffers ? new BlockRecycler() : null;
    }

    public long Capacity { get; }

    /// <summary>Where evicted blocks' buffers wait for new blocks; null when this cache does not reuse them.</summary>
    public BlockRecycler? Recycler { get; }

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

    public int Count => _map.Count;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>The key of an SST object's blocks: its path and the path's hash, worked out once per SST reader.</summary>
    public static Source SourceOf(string path) => new(path, XxHash3.HashToUInt64(MemoryMarshal.AsBytes(path.AsSpan())));

    /// <summary>Looks a block up and marks it recently used; counts a hit or a miss.</summary>
    public bool TryGet(Source source, long offset, [NotNullWhen(true)] out Block? block)
    {
        if (_map.TryGetValue((source.Hash, offset), out var entry) && entry.Holds(source.Path))
        {
            if (!entry.Referenced)
            {
                entry.Referenced = true;
            }

            Interlocked.Increment(ref _hits);
            block = entry.Block;
            return true;
        }

        Interlocked.Increment(ref _misses);
        block = null;
        return false;
    }

    /// <summary>
    /// Adds a block unless one is cached at its key already (SSTs are immutable: it is the same block, read twice by
    /// concurrent misses), evicting the oldest unreferenced ones to stay within capacity.
    /// </summary>
    public void Insert(Source source, long offset, Block block)
    {
        var charge = block.Size + source.Path.Length;
        if (charge > Capacity)
        {
            return;
        }

        var entry = new Entry(source.Path, (source.Hash, offset), block, charge);
        lock (_lock)
        {
            if (_map.ContainsKey(entry.Key))
            {
                return;
            }

            while (_size + charge > Capacity && _clock.TryDequeue(out var oldest))
            {
                if (oldest.Referenced)
                {
                    oldest.Referenced = false;
                    _clock.Enqueue(oldest);
                    continue;
                }

                _map.TryRemove(oldest.Key, out _);
                _size -= oldest.Charge;
                _evictions++;
                if (Recycler is { } recycler && oldest.Block.TryReuse() is { } array)
                {
                    // Out of the map, so no new read finds it; no lease, never escaped, so no read is in it.
                    recycler.Return(array);
                }
            }

            _map[entry.Key] = entry;
            _clock.Enqueue(entry);
            _size += charge;
        }
    }

    /// <summary>Drops every block.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _map.Clear();
            _clock.Clear();
            _size = 0;
        }
    }

    /// <summary>An SST object's path and its hash (<see cref="SourceOf"/>).</summary>
    public readonly record struct Source(string Path, ulong Hash);

    private sealed class Entry(string path, (ulong PathHash, long Offset) key, Block block, long charge)
    {
        public (ulong PathHash, long Offset) Key => key;

        public Block Block => block;

        public long Charge => charge;

        /// <summary>Read since the clock last passed it over (set by hits without the lock, cleared under it).</summary>
        public bool Referenced
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        }

        public bool Holds(string other) => ReferenceEquals(path, other) || string.Equals(path, other, StringComparison.Ordinal);
    }
}
