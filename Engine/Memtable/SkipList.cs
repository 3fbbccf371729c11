using SlateSharp.Format;

namespace SlateSharp.Memtable;

/// <summary>
/// An ordered map from (key, sequence) to a row, in internal order (key ascending as unsigned bytes, then sequence
/// descending). One writer inserts at a time (the database's write lock guarantees it); any number of readers
/// traverse concurrently without locks: a node is fully built before it becomes reachable, and links are published
/// with volatile writes, bottom level first. A node keeps key and value in one array and its bottom link in a field
/// (three nodes in four have height 1), so an insert allocates two objects, not four.
/// </summary>
internal sealed class SkipList
{
    private const int MaxHeight = 12;
    private readonly Node _head = new([], 0, 0, 0, RowKind.Put, null, MaxHeight);
    private readonly Node[] _update = new Node[MaxHeight];
    private ulong _randomState;
    private int _height = 1;
    private int _count;

    /// <param name="seed">Seeds the level generator, so a given sequence of inserts always builds the same list.</param>
    public SkipList(ulong seed) => _randomState = seed | 1;

    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Inserts a row whose key is the first <paramref name="keyLength"/> bytes of <paramref name="data"/> and whose
    /// value is the rest. Only one thread may insert at a time; (key, sequence) pairs are unique.
    /// </summary>
    public void Insert(byte[] data, int keyLength, ulong sequence, RowKind kind, long? expireAt)
    {
        var key = data.AsSpan(0, keyLength);
        var prefix = KeyComparer.PrefixOf(key);
        var node = _head;
        for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
        {
            var next = Volatile.Read(ref node.NextAt(level));
            while (next is not null && Compare(next, key, prefix, sequence) < 0)
            {
                node = next;
                next = Volatile.Read(ref node.NextAt(level));
            }

            _update[level] = node;
        }

        var height = RandomHeight();
        if (height > _height)
        {
            for (var level = _height; level < height; level++)
            {
                _update[level] = _head;
            }

            Volatile.Write(ref _height, height);
        }

        var inserted = new Node(data, keyLength, prefix, sequence, kind, expireAt, height);
        for (var level = 0; level < height; level++)
        {
            inserted.NextAt(level) = _update[level].NextAt(level);
        }

        for (var level = 0; level < height; level++)
        {
            Volatile.Write(ref _update[level].NextAt(level), inserted);
        }

        Interlocked.Increment(ref _count);
    }

    /// <summary>The first node at or after (key, sequence) in internal order, or null.</summary>
    public Node? Seek(ReadOnlySpan<byte> key, ulong sequence)
    {
        var prefix = KeyComparer.PrefixOf(key);
        var node = _head;
        Node? candidate = null;
        for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
        {
            var next = Volatile.Read(ref node.NextAt(level));
            while (next is not null && Compare(next, key, prefix, sequence) < 0)
            {
                node = next;
                next = Volatile.Read(ref node.NextAt(level));
            }

            candidate = next;
        }

        return candidate;
    }

    /// <summary>The first node, or null when empty.</summary>
    public Node? First => Volatile.Read(ref _head.NextAt(0));

    /// <summary>The last node, or null when empty. Nodes have no back links: a reverse step is a search from the top.</summary>
    public Node? Last
    {
        get
        {
            var node = _head;
            for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
            {
                for (var next = Volatile.Read(ref node.NextAt(level)); next is not null; next = Volatile.Read(ref node.NextAt(level)))
                {
                    node = next;
                }
            }

            return ReferenceEquals(node, _head) ? null : node;
        }
    }

    /// <summary>The last node whose key is at or before <paramref name="key"/> (its oldest version when it has several), or null.</summary>
    public Node? SeekForPrevious(ReadOnlySpan<byte> key)
    {
        // (key, 0) sorts after every version of key: the answer is the last node before or at it.
        var prefix = KeyComparer.PrefixOf(key);
        var node = _head;
        for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
        {
            var next = Volatile.Read(ref node.NextAt(level));
            while (next is not null && Compare(next, key, prefix, 0) <= 0)
            {
                node = next;
                next = Volatile.Read(ref node.NextAt(level));
            }
        }

        return ReferenceEquals(node, _head) ? null : node;
    }

    /// <summary>The last node that sorts before <paramref name="node"/> in internal order, or null.</summary>
    public Node? Previous(Node node)
    {
        var key = node.KeySpan;
        var sequence = node.Sequence;
        var current = _head;
        for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
        {
            var next = Volatile.Read(ref current.NextAt(level));
            while (next is not null && Compare(next, key, node.Prefix, sequence) < 0)
            {
                current = next;
                next = Volatile.Read(ref current.NextAt(level));
            }
        }

        return ReferenceEquals(current, _head) ? null : current;
    }

    /// <summary>
    /// Internal order of a node against (key, sequence), by the nodes' stored prefixes (<see cref="KeyComparer.PrefixOf"/>)
    /// first, so most comparisons during a search never touch the key arrays (a cache miss each).
    /// </summary>
    private static int Compare(Node node, ReadOnlySpan<byte> key, ulong prefix, ulong sequence)
    {
        if (node.Prefix != prefix)
        {
            return node.Prefix < prefix ? -1 : 1;
        }

        var byKey = node.KeySpan.SequenceCompareTo(key);
        return byKey != 0 ? byKey : sequence.CompareTo(node.Sequence);
    }

    private int RandomHeight()
    {
        // xorshift64: deterministic for a seed; each extra level with probability 1/4.
        var x = _randomState;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        _randomState = x;
        var height = 1;
        while (height < MaxHeight && (x & 3) == 0)
        {
            height++;
            x >>= 2;
        }

        return height;
    }

    /// <summary>One row. Immutable once linked.</summary>
    internal sealed class Node(byte[] data, int keyLength, ulong prefix, ulong sequence, RowKind kind, long? expireAt, int height)
    {
        /// <summary>The key's first 8 bytes (<see cref="KeyComparer.PrefixOf"/>), kept in the node to spare a dereference.</summary>
        public readonly ulong Prefix = prefix;

        private readonly Node?[]? _upper = height > 1 ? new Node?[height - 1] : null;
        private Node? _next;

        public ReadOnlySpan<byte> KeySpan => new(data, 0, keyLength);

        public ulong Sequence { get; } = sequence;

        public RowKind Kind { get; } = kind;

        public long? ExpireAt { get; } = expireAt;

        public Node? NextNode => Volatile.Read(ref _next);

        /// <summary>The link at <paramref name="level"/>, below the node's height.</summary>
        public ref Node? NextAt(int level) => ref level == 0 ? ref _next : ref _upper![level - 1];

        public RowEntry ToRow() => new(data.AsMemory(0, keyLength), data.AsMemory(keyLength), Sequence, Kind, ExpireAt);
    }
}
