using System.Collections;
using System.Runtime.CompilerServices;

namespace SlateSharp.Common;

/// <summary>
/// An append-only list kept in fixed chunks small enough to stay off the large object heap (each under 85,000 bytes).
/// A <see cref="List{T}"/> that grows to hundreds of thousands of entries (an SST builder's index entries and
/// filter hashes) doubles through arrays of every size on the way, each a large-object-heap allocation freed only
/// by a full collection; chunks are ordinary small objects that the collector compacts, and nothing is copied to grow.
/// </summary>
internal sealed class ChunkedList<T> : IReadOnlyList<T>
{
    private const int TargetChunkBytes = 64 << 10;

    private static readonly int ChunkShift = ShiftFor(Unsafe.SizeOf<T>());
    private static readonly int ChunkLength = 1 << ChunkShift;

    private readonly List<T[]> _chunks = [];

    public int Count { get; private set; }

    /// <summary>The number of chunks: <see cref="ChunkAt"/> of each, in order, covers the list.</summary>
    public int ChunkCount => _chunks.Count;

    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }

            return _chunks[index >> ChunkShift][index & (ChunkLength - 1)];
        }
    }

    /// <summary>The entries of chunk <paramref name="chunk"/> (every chunk full but the last).</summary>
    public ReadOnlySpan<T> ChunkAt(int chunk)
    {
        var start = chunk << ChunkShift;
        return _chunks[chunk].AsSpan(0, Math.Min(ChunkLength, Count - start));
    }

    public void Add(T item)
    {
        var offset = Count & (ChunkLength - 1);
        if (offset == 0 && Count >> ChunkShift == _chunks.Count)
        {
            _chunks.Add(new T[ChunkLength]);
        }

        _chunks[Count >> ChunkShift][offset] = item;
        Count++;
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (var chunk = 0; chunk < _chunks.Count; chunk++)
        {
            var length = Math.Min(ChunkLength, Count - (chunk << ChunkShift));
            var items = _chunks[chunk];
            for (var i = 0; i < length; i++)
            {
                yield return items[i];
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static int ShiftFor(int elementSize)
    {
        var shift = 4;
        while ((2 << shift) * elementSize <= TargetChunkBytes)
        {
            shift++;
        }

        return shift;
    }
}
