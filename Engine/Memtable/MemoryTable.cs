using SlateSharp.Format;
using SlateSharp.Iteration;
using SlateSharp.Manifest;

namespace SlateSharp.Memtable;

/// <summary>
/// The in-memory table new writes go to: a <see cref="SkipList"/> plus its size and sequence range. Mutable until
/// frozen; after that it only serves reads until its L0 SST is recorded in the manifest. Range deletes are kept apart
/// from the rows, in sequence order (<see cref="RangeTombstones"/>): a flush moves them into the manifest.
/// </summary>
internal sealed class MemoryTable
{
    /// <summary>Bytes charged per range delete on top of its bounds: the tombstone object and its two arrays' headers.</summary>
    private const int RangeTombstoneOverhead = 144;

    private readonly SkipList _rows;
    private long _sizeBytes;
    private ulong _lastSequence;
    private RangeTombstone[] _rangeTombstones = [];

    // The read views that list this memtable and may still be read (DbView): when the last lets go, the rows' chunks
    // go back to the pool. A memtable no view ever held, or whose holds are never all released, is left to the GC (its
    // arena's finalizer frees its chunks).
    private int _holds;

    /// <param name="seed">Seeds the skip list's level generator.</param>
    /// <param name="pool">Where the rows' arena takes full-size chunks from and gives them back to once unreadable; none: the GC's.</param>
    public MemoryTable(ulong seed, MemtableChunkPool? pool = null) => _rows = new SkipList(seed, pool);

    public long SizeBytes => Interlocked.Read(ref _sizeBytes);

    public int Count => _rows.Count;

    /// <summary>Heap bytes the rows' arena holds, charged or not.</summary>
    public long ReservedBytes => _rows.ReservedBytes;

    /// <summary>Whether the last hold was released and the rows' memory given back (nothing may read the memtable then).</summary>
    public bool IsRecycled => Volatile.Read(ref _holds) < 0;

    /// <summary>
    /// Adds a hold: a read view that lists this memtable was made. Only while another hold is kept (the view it was made
    /// from) or before any was taken, so a memtable whose memory went back is never held again.
    /// </summary>
    public void AddHold()
    {
        if (Interlocked.Increment(ref _holds) <= 0)
        {
            throw new InvalidOperationException("a recycled memtable was listed in a new view");
        }
    }

    /// <summary>
    /// Releases a hold; the last one gives the rows' arena chunks back to the pool, after which nothing may read the
    /// memtable's rows (those handed out before must have been copied).
    /// </summary>
    public void ReleaseHold()
    {
        if (Interlocked.Decrement(ref _holds) == 0 && Interlocked.CompareExchange(ref _holds, int.MinValue, 0) == 0)
        {
            _rows.Recycle();
        }
    }

    public bool IsEmpty => _rows.Count == 0 && RangeTombstones.Count == 0;

    /// <summary>The range deletes inserted, in ascending sequence order; a reader gets the list as it is now, unchanging.</summary>
    public IReadOnlyList<RangeTombstone> RangeTombstones => Volatile.Read(ref _rangeTombstones);

    /// <summary>The highest sequence number inserted.</summary>
    public ulong LastSequence => Volatile.Read(ref _lastSequence);

    /// <summary>
    /// Inserts one row, copying key and value into the skip list's arena; the caller serialises inserts. Returns the
    /// bytes charged: the node's size in the arena (key, value, links and fields), and the tail of an arena chunk it
    /// made the arena leave. The arena's heap exceeds the sum of the charges by at most its newest chunk's unused tail
    /// (under 1 MiB, <see cref="MemtableArena.Allocate"/>).
    /// </summary>
    public long Insert(ReadOnlyMemory<byte> key, ulong sequence, RowKind kind, ReadOnlyMemory<byte> value, long? expireAt)
    {
        long charged;
        if (kind == RowKind.RangeDelete)
        {
            // The value is the range's exclusive end (RowKind.RangeDelete). Sequences only grow, so appending keeps order.
            // Copied on write: few range deletes, and every reader keeps an unchanging list.
            Volatile.Write(ref _rangeTombstones, [.. _rangeTombstones, new RangeTombstone(key.ToArray(), value.ToArray(), sequence)]);
            charged = key.Length + value.Length + RangeTombstoneOverhead;
        }
        else
        {
            charged = _rows.Insert(key.Span, value.Span, sequence, kind, expireAt);
        }

        Interlocked.Add(ref _sizeBytes, charged);
        if (sequence > _lastSequence)
        {
            Volatile.Write(ref _lastSequence, sequence);
        }

        return charged;
    }

    /// <summary>
    /// Whether some row is not hidden by a newer range delete of this memtable, so that its flush writes an SST; false
    /// for a memtable of range deletes only, or whose every row they hide. Linear in rows times range deletes.
    /// </summary>
    public bool HasRowsOutsideItsRangeDeletes()
    {
        var tombstones = RangeTombstones;
        for (var node = _rows.First; node != 0; node = _rows.NextOf(node))
        {
            if (RangeTombstone.LowestCoveringAbove(tombstones, _rows.KeyOf(node), _rows.SequenceOf(node)) == ulong.MaxValue)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The newest row for <paramref name="key"/> with a sequence at or below <paramref name="maxSequence"/>.</summary>
    public RowEntry? Get(ReadOnlySpan<byte> key, ulong maxSequence)
    {
        var node = _rows.Seek(key, maxSequence);
        return node != 0 && _rows.KeyOf(node).SequenceEqual(key) ? _rows.RowOf(node) : null;
    }

    /// <summary>
    /// An iterator in internal order, either direction; safe while inserts continue (it may or may not see newer rows).
    /// A step backwards is a search from the top of the skip list (O(log n)), which has no back links.
    /// </summary>
    /// <param name="copyRows">
    /// Whether each row's key and value are copied out of the memtable: for rows that may outlive the read (a scan's
    /// <see cref="KeyValue"/>s), as the memtable's memory is reused once it is flushed and unread. Without it a row
    /// aliases the memtable and is valid only while its reader holds it (a flush).
    /// </param>
    public IRowIterator CreateIterator(bool copyRows = false) => new MemtableIterator(_rows, copyRows);

    private sealed class MemtableIterator(SkipList rows, bool copyRows) : IRowIterator
    {
        private long _current;
        private bool _started;

        // The copied row at _current (copyRows), made once per position however often Current is read.
        private long _copiedAt;
        private RowEntry _copied;

        public RowEntry Current => _current == 0
            ? throw new InvalidOperationException("iterator is not positioned")
            : !copyRows ? rows.RowOf(_current)
            : _copiedAt == _current ? _copied
            : CopyCurrent();

        private RowEntry CopyCurrent()
        {
            _copied = rows.RowOf(_current).Copy();
            _copiedAt = _current;
            return _copied;
        }

        public ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
        {
            _started = true;
            _current = key.IsEmpty ? rows.First : rows.Seek(key.Span, ulong.MaxValue);
            return ValueTask.FromResult(_current != 0);
        }

        public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
        {
            _current = _started ? (_current != 0 ? rows.NextOfPrefetching(_current) : 0) : rows.First;
            _started = true;
            return ValueTask.FromResult(_current != 0);
        }

        public ValueTask<bool> SeekForPreviousAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
        {
            _started = true;
            _current = key.IsEmpty ? rows.Last : rows.SeekForPrevious(key.Span);
            return ValueTask.FromResult(_current != 0);
        }

        public ValueTask<bool> MovePreviousAsync(CancellationToken cancellationToken)
        {
            _current = _started ? (_current != 0 ? rows.Previous(_current) : 0) : rows.Last;
            _started = true;
            return ValueTask.FromResult(_current != 0);
        }
    }
}
