using System.Runtime.InteropServices;
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
    /// <summary>Bytes charged per row on top of key and value: the skip-list node (~64), its links (~32) and two array headers (~48).</summary>
    public const int RowOverhead = 144;

    private readonly SkipList _rows;
    private long _sizeBytes;
    private ulong _lastSequence;
    private RangeTombstone[] _rangeTombstones = [];

    public MemoryTable(ulong seed) => _rows = new SkipList(seed);

    public long SizeBytes => Interlocked.Read(ref _sizeBytes);

    public int Count => _rows.Count;

    public bool IsEmpty => _rows.Count == 0 && RangeTombstones.Count == 0;

    /// <summary>The range deletes inserted, in ascending sequence order; a reader gets the list as it is now, unchanging.</summary>
    public IReadOnlyList<RangeTombstone> RangeTombstones => Volatile.Read(ref _rangeTombstones);

    /// <summary>The highest sequence number inserted.</summary>
    public ulong LastSequence => Volatile.Read(ref _lastSequence);

    /// <summary>
    /// Inserts one row; the caller serialises inserts. Returns the bytes charged. A key and value that are already
    /// one array (key first, value the rest, as <see cref="Db.PutAsync"/> copies them) are kept as they are; others
    /// are copied into one.
    /// </summary>
    public long Insert(ReadOnlyMemory<byte> key, ulong sequence, RowKind kind, ReadOnlyMemory<byte> value, long? expireAt)
    {
        if (kind == RowKind.RangeDelete)
        {
            // The value is the range's exclusive end (RowKind.RangeDelete). Sequences only grow, so appending keeps order.
            // Copied on write: few range deletes, and every reader keeps an unchanging list.
            Volatile.Write(ref _rangeTombstones, [.. _rangeTombstones, new RangeTombstone(key.ToArray(), value.ToArray(), sequence)]);
        }
        else
        {
            _rows.Insert(AsOneArray(key, value), key.Length, sequence, kind, expireAt);
        }

        var charged = key.Length + value.Length + RowOverhead;
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
        for (var node = _rows.First; node is not null; node = node.NextNode)
        {
            if (RangeTombstone.LowestCoveringAbove(tombstones, node.KeySpan, node.Sequence) == ulong.MaxValue)
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
        return node is not null && node.KeySpan.SequenceEqual(key) ? node.ToRow() : null;
    }

    /// <summary>
    /// An iterator in internal order, either direction; safe while inserts continue (it may or may not see newer rows).
    /// A step backwards is a search from the top of the skip list (O(log n)), which has no back links.
    /// </summary>
    public IRowIterator CreateIterator() => new MemtableIterator(_rows);

    private static byte[] AsOneArray(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value)
    {
        if (MemoryMarshal.TryGetArray(key, out var k) && k.Offset == 0 && k.Array is { } array)
        {
            if (value.IsEmpty && k.Count == array.Length)
            {
                return array;
            }

            if (MemoryMarshal.TryGetArray(value, out var v) && ReferenceEquals(v.Array, array) && v.Offset == k.Count && v.Offset + v.Count == array.Length)
            {
                return array;
            }
        }

        var data = new byte[key.Length + value.Length];
        key.Span.CopyTo(data);
        value.Span.CopyTo(data.AsSpan(key.Length));
        return data;
    }

    private sealed class MemtableIterator(SkipList rows) : IRowIterator
    {
        private SkipList.Node? _current;
        private bool _started;

        public RowEntry Current => _current?.ToRow() ?? throw new InvalidOperationException("iterator is not positioned");

        public ValueTask<bool> SeekAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
        {
            _started = true;
            _current = key.IsEmpty ? rows.First : rows.Seek(key.Span, ulong.MaxValue);
            return ValueTask.FromResult(_current is not null);
        }

        public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
        {
            _current = _started ? _current?.NextNode : rows.First;
            _started = true;
            return ValueTask.FromResult(_current is not null);
        }

        public ValueTask<bool> SeekForPreviousAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
        {
            _started = true;
            _current = key.IsEmpty ? rows.Last : rows.SeekForPrevious(key.Span);
            return ValueTask.FromResult(_current is not null);
        }

        public ValueTask<bool> MovePreviousAsync(CancellationToken cancellationToken)
        {
            _current = _started ? (_current is { } current ? rows.Previous(current) : null) : rows.Last;
            _started = true;
            return ValueTask.FromResult(_current is not null);
        }
    }
}
