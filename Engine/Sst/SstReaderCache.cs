using System.Collections.Concurrent;
using SlateSharp.Manifest;
using SlateSharp.Storage;

namespace SlateSharp.Sst;

/// <summary>
/// Open SST readers (footer, index and bloom filter in memory), opened on first use, shared, and bounded: when the
/// readers held exceed <c>capacityBytes</c> of index and filter memory, the least recently used are dropped (a reader
/// in use elsewhere stays valid; the next use of that SST opens it again with one or two ranged reads). Memory stays
/// bounded however many SSTs the database has.
/// </summary>
/// <remarks>
/// A hit takes no lock: it looks the reader up in a concurrent map and marks it referenced, so a get that probes
/// several SSTs pays a map lookup per SST, not a lock and a list move. Opening, forgetting and eviction take the lock.
/// Eviction is CLOCK (second chance), as in <see cref="BlockCache"/>: the oldest reader goes unless it was used since
/// the clock last passed it, in which case it is cleared and goes round again.
/// </remarks>
internal sealed class SstReaderCache(IObjectStore store, BlockCache? blocks, long capacityBytes)
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<SstId, Entry> _entries = new();
    private readonly Queue<Entry> _clock = new(); // opening order; guarded by _lock, as are _chargedBytes and Entry.Held
    private long _chargedBytes;
    private int _dropped; // entries in _clock no longer held
    private long _passOpens;

    /// <summary>Index and filter bytes of the readers held.</summary>
    public long ChargedBytes
    {
        get
        {
            lock (_lock)
            {
                return _chargedBytes;
            }
        }
    }

    /// <summary>Readers held.</summary>
    public int Count => _entries.Count;

    /// <summary>Readers <see cref="GetForPassAsync"/> opened without keeping them.</summary>
    public long PassOpens => Interlocked.Read(ref _passOpens);

    /// <summary>Entries the eviction clock still lists, held or dropped (for tests: dropped ones must not pile up).</summary>
    internal int ClockLength
    {
        get
        {
            lock (_lock)
            {
                return _clock.Count;
            }
        }
    }

    /// <summary>The reader of <paramref name="id"/>; completes synchronously, allocating nothing, once it is open.</summary>
    public ValueTask<SstReader> GetAsync(SstId id, CancellationToken cancellationToken)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            entry = Open(id);
        }
        else if (!entry.Referenced)
        {
            entry.Referenced = true;
        }

        return entry.Reader.IsCompletedSuccessfully ? new(entry.Reader.Result) : new(entry.Reader.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// The reader of <paramref name="id"/> for one pass over the SST (a compaction reading its inputs): the held reader
    /// if there is one, otherwise a reader opened for the caller alone and not kept. A compaction reads each input once
    /// and then drops it, so caching every input's index and filter would hold a whole job's indexes at once and push
    /// out the readers that gets use. An opened one carries no bloom filter, which a pass never asks.
    /// </summary>
    public ValueTask<SstReader> GetForPassAsync(SstId id, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(id, out var entry) && entry.Reader.IsCompletedSuccessfully)
        {
            return new(entry.Reader.Result);
        }

        Interlocked.Increment(ref _passOpens);
        return SstReader.OpenForPassAsync(store, SstPaths.PathOf(id), blocks, cancellationToken);
    }

    /// <summary>
    /// Drops the readers of <paramref name="ids"/>, SSTs the latest manifest no longer references (compacted away):
    /// nothing reads them again except a snapshot or iterator that already holds its reader or reopens it, so holding
    /// their indexes and filters until eviction reaches them would spend the budget on dead SSTs.
    /// </summary>
    public void Forget(IEnumerable<SstId> ids)
    {
        lock (_lock)
        {
            foreach (var id in ids)
            {
                if (_entries.TryGetValue(id, out var entry))
                {
                    Remove(entry);
                }
            }
        }
    }

    private Entry Open(SstId id)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(id, out var raced))
            {
                return raced;
            }

            var entry = new Entry(id, SstReader.OpenAsync(store, SstPaths.PathOf(id), blocks, CancellationToken.None).AsTask());
            _entries[id] = entry;
            _clock.Enqueue(entry);
            _ = ChargeWhenOpenAsync(entry);
            return entry;
        }
    }

    private async Task ChargeWhenOpenAsync(Entry entry)
    {
        SstReader reader;
        try
        {
            reader = await entry.Reader.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A failed open is not kept: the next use tries again (and reports the error to its own caller).
            lock (_lock)
            {
                Remove(entry);
            }

            return;
        }

        lock (_lock)
        {
            if (!entry.Held)
            {
                return;
            }

            entry.Charge = reader.MemorySize;
            _chargedBytes += entry.Charge;
            EvictOverCapacity();
        }
    }

    /// <summary>
    /// Drops the oldest open readers not used since the clock last passed them until the charge fits. Readers still
    /// opening are passed over (they are charged when open); two turns of the clock bound the walk.
    /// </summary>
    private void EvictOverCapacity()
    {
        var steps = 2 * _clock.Count;
        while (_chargedBytes > capacityBytes && steps-- > 0 && _clock.TryDequeue(out var oldest))
        {
            if (!oldest.Held)
            {
                _dropped--; // forgotten or failed: its place in the clock was left behind
                continue;
            }

            if (oldest.Referenced || !oldest.Reader.IsCompletedSuccessfully)
            {
                oldest.Referenced = false;
                _clock.Enqueue(oldest);
                continue;
            }

            Remove(oldest, stillInClock: false);
        }
    }

    /// <summary>
    /// Drops an entry from the map. Its place in the clock is skipped when the clock reaches it; once dropped entries
    /// are half the clock, the clock is rebuilt without them, so dead readers' indexes and filters are not kept alive.
    /// </summary>
    private void Remove(Entry entry, bool stillInClock = true)
    {
        if (!entry.Held)
        {
            return;
        }

        entry.Held = false;
        _entries.TryRemove(new KeyValuePair<SstId, Entry>(entry.Id, entry));
        _chargedBytes -= entry.Charge;
        if (stillInClock && ++_dropped > _clock.Count / 2)
        {
            var held = _clock.Where(e => e.Held).ToArray();
            _clock.Clear();
            foreach (var e in held)
            {
                _clock.Enqueue(e);
            }

            _dropped = 0;
        }
    }

    private sealed class Entry(SstId id, Task<SstReader> reader)
    {
        public SstId Id => id;

        public Task<SstReader> Reader => reader;

        public long Charge { get; set; }

        /// <summary>In the map; cleared under the lock when dropped, so a late charge or a clock pass skips it.</summary>
        public bool Held { get; set; } = true;

        /// <summary>Used since the clock last passed it over (set by hits without the lock, cleared under it).</summary>
        public bool Referenced
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        }
    }
}
