using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SlateSharp.Format;

namespace SlateSharp.Memtable;

/// <summary>
/// An ordered map from (key, sequence) to a row, in internal order (key ascending as unsigned bytes, then sequence
/// descending). One writer inserts at a time (the database's write lock guarantees it); any number of readers
/// traverse concurrently without locks: a node is fully written before it becomes reachable, and links are published
/// with volatile writes, bottom level first.
/// </summary>
/// <remarks>
/// Nodes live in a <see cref="MemtableArena"/>, addressed by <c>long</c> (0 is "none": the head's address, which no
/// link points to). A node, 8-byte aligned:
/// <code>
/// +0   key prefix (u64, KeyComparer.PrefixOf)   +8  height (u8)  +9 kind (u8)  +10 has-expiry (u8)  +12 key length (i32)
/// +16  one 16-byte slot per level, bottom first: the next node's address (i64), then that node's key prefix (u64)
/// +H   sequence (u64), H = 16 + 16 × height     +H+8 expiry (i64)   +H+16 value length (i32)   +H+20 key, then value
/// </code>
/// A reader's search reads a node's prefix and one link, which for three nodes in four (height 1) share 24 bytes.
/// The writer's search also reads the prefix kept beside each link (only the writer writes and reads it), so it
/// never touches the node where a level's search stops, a cache miss fewer per level. An insert allocates no object.
/// </remarks>
internal sealed class SkipList
{
    private const int MaxHeight = 12;
    private const long None = 0;
    // Offsets in a node (the layout above): fixed fields first, then the links, then the fields after them.
    private const int HeightOffset = 8;
    private const int KindOffset = 9;
    private const int HasExpiryOffset = 10;
    private const int KeyLengthOffset = 12;
    private const int LinksOffset = 16;
    private const int LinkSlotBytes = 16;
    private const int SequenceAfterLinks = 0;
    private const int ExpiryAfterLinks = 8;
    private const int ValueLengthAfterLinks = 16;
    private const int KeyAfterLinks = 20;
    private readonly MemtableArena _arena;
    private readonly long[] _update = new long[MaxHeight];
    private ulong _randomState;
    private int _height = 1;
    private int _count;

    /// <param name="seed">Seeds the level generator, so a given sequence of inserts always builds the same list.</param>
    /// <param name="pool">Where the arena's full-size chunks come from and go back to (<see cref="Recycle"/>); none: the GC's.</param>
    public SkipList(ulong seed, MemtableChunkPool? pool = null)
    {
        _arena = new MemtableArena(pool);
        _randomState = seed | 1;
        var head = _arena.Allocate(LinksOffset + (LinkSlotBytes * MaxHeight), out _);
        ref var node = ref _arena.At(head);
        Unsafe.Add(ref node, HeightOffset) = MaxHeight;
        for (var level = 0; level < MaxHeight; level++)
        {
            LinkAt(ref node, level) = None;
            NextPrefixAt(ref node, level) = 0;
        }
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Native bytes the nodes take, used or reserved.</summary>
    public long ReservedBytes => _arena.ReservedBytes;

    /// <summary>Gives the arena's chunks back to its pool (<see cref="MemtableArena.Recycle"/>); the list is unusable after it.</summary>
    public void Recycle() => _arena.Recycle();

    /// <summary>The first node, or 0 when empty.</summary>
    public long First => Volatile.Read(ref LinkAt(ref _arena.At(None), 0));

    /// <summary>
    /// Copies a row into the list and links it. Only one thread may insert at a time; (key, sequence) pairs are
    /// unique. Returns the bytes charged for it (<see cref="MemtableArena.Allocate"/>).
    /// </summary>
    // Fully optimized from the first call, as are the other per-row steps of writes and flushes: tiering would leave a
    // bulk load's first seconds in unoptimized code (docs/design/write-path.md, "Optimized from the first row").
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Insert(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, RowKind kind, long? expireAt)
    {
        // The writer's own search: it alone writes links and the prefixes beside them, so it reads them plainly.
        var prefix = KeyComparer.PrefixOf(key);
        var current = None;
        for (var level = _height - 1; level >= 0; level--)
        {
            ref var at = ref _arena.At(current);
            var next = LinkAt(ref at, level);
            var nextPrefix = NextPrefixAt(ref at, level);
            while (next != None && (nextPrefix < prefix || (nextPrefix == prefix && Compare(next, key, prefix, sequence) < 0)))
            {
                current = next;
                at = ref _arena.At(current);
                next = LinkAt(ref at, level);
                nextPrefix = NextPrefixAt(ref at, level);
            }

            _update[level] = current;
        }

        var height = RandomHeight();
        if (height > _height)
        {
            for (var level = _height; level < height; level++)
            {
                _update[level] = None;
            }

            Volatile.Write(ref _height, height);
        }

        var fields = FieldsOffset(height);
        var size = (fields + KeyAfterLinks + key.Length + value.Length + 7) & ~7;
        var address = _arena.Allocate(size, out var charged);
        ref var node = ref _arena.At(address);
        Unsafe.As<byte, ulong>(ref node) = prefix;
        Unsafe.Add(ref node, HeightOffset) = (byte)height;
        Unsafe.Add(ref node, KindOffset) = (byte)kind;
        Unsafe.Add(ref node, HasExpiryOffset) = expireAt.HasValue ? (byte)1 : (byte)0;
        Unsafe.As<byte, int>(ref Unsafe.Add(ref node, KeyLengthOffset)) = key.Length;
        Unsafe.As<byte, ulong>(ref Unsafe.Add(ref node, fields + SequenceAfterLinks)) = sequence;
        Unsafe.As<byte, long>(ref Unsafe.Add(ref node, fields + ExpiryAfterLinks)) = expireAt.GetValueOrDefault();
        Unsafe.As<byte, int>(ref Unsafe.Add(ref node, fields + ValueLengthAfterLinks)) = value.Length;
        key.CopyTo(_arena.Span(address + fields + KeyAfterLinks, key.Length));
        value.CopyTo(_arena.Span(address + fields + KeyAfterLinks + key.Length, value.Length));
        for (var level = 0; level < height; level++)
        {
            ref var before = ref _arena.At(_update[level]);
            LinkAt(ref node, level) = LinkAt(ref before, level);
            NextPrefixAt(ref node, level) = NextPrefixAt(ref before, level);
        }

        for (var level = 0; level < height; level++)
        {
            ref var before = ref _arena.At(_update[level]);
            NextPrefixAt(ref before, level) = prefix;
            Volatile.Write(ref LinkAt(ref before, level), address);
        }

        Interlocked.Increment(ref _count);
        return charged;
    }

    /// <summary>The first node at or after (key, sequence) in internal order, or 0.</summary>
    /// <remarks>
    /// Not <c>NextOf(LastBefore(…))</c>: it returns the successor it compared, where reading the link again could
    /// return a node the writer has since inserted before (key, sequence) (<c>SkipListArenaTests</c> catches that).
    /// </remarks>
    public long Seek(ReadOnlySpan<byte> key, ulong sequence)
    {
        var prefix = KeyComparer.PrefixOf(key);
        var current = None;
        var candidate = None;
        for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
        {
            var next = Volatile.Read(ref LinkAt(ref _arena.At(current), level));
            while (next != None && Compare(next, key, prefix, sequence) < 0)
            {
                current = next;
                next = Volatile.Read(ref LinkAt(ref _arena.At(current), level));
            }

            candidate = next;
        }

        return candidate;
    }

    /// <summary>The last node, or 0 when empty. Nodes have no back links: a reverse step is a search from the top.</summary>
    public long Last
    {
        get
        {
            var current = None;
            for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
            {
                for (var next = Volatile.Read(ref LinkAt(ref _arena.At(current), level)); next != None; next = Volatile.Read(ref LinkAt(ref _arena.At(current), level)))
                {
                    current = next;
                }
            }

            return current;
        }
    }

    /// <summary>The last node whose key is at or before <paramref name="key"/> (its oldest version when it has several), or 0.</summary>
    public long SeekForPrevious(ReadOnlySpan<byte> key) => LastBefore(key, KeyComparer.PrefixOf(key), 0, inclusive: true);

    /// <summary>The last node that sorts before <paramref name="node"/> in internal order, or 0.</summary>
    public long Previous(long node) => LastBefore(KeyOf(node), Unsafe.As<byte, ulong>(ref _arena.At(node)), SequenceOf(node), inclusive: false);

    /// <summary>The node after <paramref name="node"/>, or 0.</summary>
    public long NextOf(long node) => Volatile.Read(ref LinkAt(ref _arena.At(node), 0));

    /// <summary>
    /// The node after <paramref name="node"/>, or 0, with the memory of the node after that one asked for ahead of
    /// its use. Nodes lie in the arena in insert order, so a walk in key order misses the cache at every node; asked
    /// one step ahead, that miss overlaps the caller's work on the row in hand (a flush encoding it into a block).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long NextOfPrefetching(long node)
    {
        var next = Volatile.Read(ref LinkAt(ref _arena.At(node), 0));
        if (next != None)
        {
            var ahead = Volatile.Read(ref LinkAt(ref _arena.At(next), 0));
            if (ahead != None)
            {
                NodeMemory.Prefetch(ref _arena.At(ahead));
            }
        }

        return next;
    }

    /// <summary>The key of <paramref name="node"/>, in the arena.</summary>
    public ReadOnlySpan<byte> KeyOf(long node)
    {
        ref var start = ref _arena.At(node);
        var fields = FieldsOffset(Unsafe.Add(ref start, HeightOffset));
        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref start, fields + KeyAfterLinks), Unsafe.As<byte, int>(ref Unsafe.Add(ref start, KeyLengthOffset)));
    }

    /// <summary>The sequence number of <paramref name="node"/>.</summary>
    public ulong SequenceOf(long node)
    {
        ref var start = ref _arena.At(node);
        return Unsafe.As<byte, ulong>(ref Unsafe.Add(ref start, FieldsOffset(Unsafe.Add(ref start, HeightOffset)) + SequenceAfterLinks));
    }

    /// <summary>The row at <paramref name="node"/>; its key and value alias the arena, which never changes them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public RowEntry RowOf(long node)
    {
        ref var start = ref _arena.At(node);
        var fields = FieldsOffset(Unsafe.Add(ref start, HeightOffset));
        var keyLength = Unsafe.As<byte, int>(ref Unsafe.Add(ref start, KeyLengthOffset));
        var valueLength = Unsafe.As<byte, int>(ref Unsafe.Add(ref start, fields + ValueLengthAfterLinks));
        long? expireAt = Unsafe.Add(ref start, HasExpiryOffset) != 0 ? Unsafe.As<byte, long>(ref Unsafe.Add(ref start, fields + ExpiryAfterLinks)) : null;
        return new RowEntry(
            _arena.Memory(node + fields + KeyAfterLinks, keyLength),
            _arena.Memory(node + fields + KeyAfterLinks + keyLength, valueLength),
            Unsafe.As<byte, ulong>(ref Unsafe.Add(ref start, fields + SequenceAfterLinks)),
            (RowKind)Unsafe.Add(ref start, KindOffset),
            expireAt);
    }

    /// <summary>Where the fields after a node's links start, for a node of <paramref name="height"/> levels.</summary>
    private static int FieldsOffset(int height) => LinksOffset + (LinkSlotBytes * height);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref long LinkAt(ref byte node, int level) => ref Unsafe.As<byte, long>(ref Unsafe.Add(ref node, LinksOffset + (LinkSlotBytes * level)));

    /// <summary>The key prefix of the node the link at <paramref name="level"/> points to; the writer's alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref ulong NextPrefixAt(ref byte node, int level) => ref Unsafe.As<byte, ulong>(ref Unsafe.Add(ref node, LinksOffset + (LinkSlotBytes * level) + sizeof(long)));

    /// <summary>The last node before (key, sequence) in internal order, or at it when <paramref name="inclusive"/>; 0 for none.</summary>
    private long LastBefore(ReadOnlySpan<byte> key, ulong prefix, ulong sequence, bool inclusive)
    {
        var bound = inclusive ? 0 : -1;
        var current = None;
        for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
        {
            var next = Volatile.Read(ref LinkAt(ref _arena.At(current), level));
            while (next != None && Compare(next, key, prefix, sequence) <= bound)
            {
                current = next;
                next = Volatile.Read(ref LinkAt(ref _arena.At(current), level));
            }
        }

        return current;
    }

    /// <summary>
    /// Internal order of a node against (key, sequence), by the nodes' stored prefixes (<see cref="KeyComparer.PrefixOf"/>)
    /// first, so most comparisons never read the key bytes.
    /// </summary>
    private int Compare(long node, ReadOnlySpan<byte> key, ulong prefix, ulong sequence)
    {
        ref var start = ref _arena.At(node);
        var nodePrefix = Unsafe.As<byte, ulong>(ref start);
        if (nodePrefix != prefix)
        {
            return nodePrefix < prefix ? -1 : 1;
        }

        var byKey = KeyOf(node).SequenceCompareTo(key);
        return byKey != 0 ? byKey : sequence.CompareTo(SequenceOf(node));
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
}
