using SlateSharp.Manifest;
using SlateSharp.Storage;

namespace SlateSharp.Sst;

/// <summary>
/// Open SST readers (footer, index and bloom filter in memory), opened on first use, shared, and bounded: when the
/// readers held exceed <c>capacityBytes</c> of index and filter memory, the least recently used are dropped (a reader
/// in use elsewhere stays valid; the next use of that SST opens it again with one or two ranged reads). Memory stays
/// bounded however many SSTs the database has.
/// </summary>
internal sealed class SstReaderCache(IObjectStore store, BlockCache? blocks, long capacityBytes)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SstId, Entry> _entries = [];
    private readonly LinkedList<Entry> _recency = new();
    private long _chargedBytes;

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
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The reader of <paramref name="id"/>; completes synchronously, allocating nothing, once it is open.</summary>
    public ValueTask<SstReader> GetAsync(SstId id, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_lock)
        {
            if (_entries.TryGetValue(id, out var found))
            {
                if (found.Node.Previous is not null)
                {
                    _recency.Remove(found.Node);
                    _recency.AddFirst(found.Node);
                }

                entry = found;
            }
            else
            {
                entry = new Entry(id, SstReader.OpenAsync(store, SstPaths.PathOf(id), blocks, CancellationToken.None).AsTask());
                _entries.Add(id, entry);
                _recency.AddFirst(entry.Node);
                _ = ChargeWhenOpenAsync(entry);
            }
        }

        return entry.Reader.IsCompletedSuccessfully ? new(entry.Reader.Result) : new(entry.Reader.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Drops the readers of <paramref name="ids"/>, SSTs the latest manifest no longer references (compacted away):
    /// nothing reads them again except a snapshot or iterator that already holds its reader or reopens it, so holding
    /// their indexes and filters until least-recently-used eviction reaches them would spend the budget on dead SSTs.
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
            if (entry.Node.List is null)
            {
                return;
            }

            entry.Charge = reader.MemorySize;
            _chargedBytes += entry.Charge;
            var candidate = _recency.Last;
            while (_chargedBytes > capacityBytes && candidate is not null)
            {
                var previous = candidate.Previous;
                if (candidate.Value.Reader.IsCompletedSuccessfully)
                {
                    Remove(candidate.Value);
                }

                candidate = previous;
            }
        }
    }

    private void Remove(Entry entry)
    {
        if (entry.Node.List is null)
        {
            return;
        }

        _recency.Remove(entry.Node);
        _entries.Remove(entry.Id);
        _chargedBytes -= entry.Charge;
    }

    private sealed class Entry
    {
        public Entry(SstId id, Task<SstReader> reader)
        {
            Id = id;
            Reader = reader;
            Node = new LinkedListNode<Entry>(this);
        }

        public SstId Id { get; }

        public Task<SstReader> Reader { get; }

        public LinkedListNode<Entry> Node { get; }

        public long Charge { get; set; }
    }
}
