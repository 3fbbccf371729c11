using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SlateSharp.Memtable;

/// <summary>
/// Append-only memory for one memtable's skip-list nodes: chunks that grow from 4 KiB to 1 MiB (a node larger than a
/// quarter of that gets a chunk of its own), so a row costs no object of its own. An address is
/// (chunk index &lt;&lt; 32 | offset), every allocation is 8-byte aligned (so links can be read and written
/// atomically), and address 0 is the first allocation, which the skip list's head takes: a link of 0 means none.
/// One writer allocates at a time; readers resolve addresses concurrently without locks.
/// </summary>
/// <remarks>
/// With a <see cref="MemtableChunkPool"/> the memtable's lifetime is explicit (it is recycled once nothing reads it), so
/// its chunks are native (<see cref="MemtableChunk"/>) and the GC's heap holds none of the rows: full-size chunks come
/// from the pool and go back to it on <see cref="Recycle"/>, the others are freed then. Without one (a reader's
/// replayed memtable, whose lifetime is the GC's) they are managed arrays, which every reference into them keeps alive.
/// A native chunk names the arena as its owner, so a row's <see cref="Memory{T}"/> keeps the arena reachable; an arena
/// that became unreachable without being recycled (a read view left entered by a throw, a snapshot or scan never
/// disposed) frees its chunks in its finalizer, when nothing can read them any more.
/// </remarks>
internal sealed unsafe class MemtableArena
{
    public const int FirstChunkBytes = 4 << 10;
    public const int MaxChunkBytes = 1 << 20;
    private const int OwnChunkAbove = MaxChunkBytes / 4;

    private readonly MemtableChunkPool? _pool;

    // Slots below _chunkCount never change once written; a grown array is published whole, after its chunk is in it.
    private Slot[] _chunks = new Slot[8];
    private int _chunkCount;
    private int _current = -1;
    private int _used;
    private int _nextChunkBytes = FirstChunkBytes;
    private long _reservedBytes;

    public MemtableArena(MemtableChunkPool? pool = null)
    {
        _pool = pool;
        if (pool is null)
        {
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Frees the chunks of an arena that was never recycled (after <see cref="Recycle"/> it holds none).</summary>
    ~MemtableArena()
    {
        for (var i = 0; i < _chunkCount; i++)
        {
            _chunks[i].Native?.Free();
        }
    }

    /// <summary>Bytes of every chunk allocated so far (what the arena holds, used or not).</summary>
    public long ReservedBytes => Interlocked.Read(ref _reservedBytes);

    /// <summary>
    /// Reserves <paramref name="size"/> bytes (rounded up to 8) and returns their address. The bytes are not cleared:
    /// the caller writes every byte it will read before publishing the address to readers. <paramref name="charged"/>
    /// is what the allocation costs: its rounded size, plus the unused tail of the chunk it made the arena leave. So
    /// the charges sum to <see cref="ReservedBytes"/> less the newest chunk's unused tail (under <see cref="MaxChunkBytes"/>).
    /// </summary>
    public long Allocate(int size, out int charged)
    {
        size = (size + 7) & ~7;
        charged = size;
        if (size > OwnChunkAbove)
        {
            return ((long)AddChunk(size) << 32) | 0;
        }

        if (_current < 0 || _used + size > _chunks[_current].Length)
        {
            if (_current >= 0)
            {
                charged += _chunks[_current].Length - _used;
            }

            var bytes = Math.Max(_nextChunkBytes, size);
            _nextChunkBytes = Math.Min(_nextChunkBytes * 2, MaxChunkBytes);
            _current = AddChunk(bytes);
            _used = 0;
        }

        var address = ((long)_current << 32) | (uint)_used;
        _used += size;
        return address;
    }

    /// <summary>A reference to the byte at <paramref name="address"/>, for reads and writes of fixed-size fields.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref byte At(long address)
    {
        ref readonly var slot = ref Volatile.Read(ref _chunks)[(int)(address >> 32)];
        return ref slot.Managed is { } array
            ? ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), (uint)address)
            : ref Unsafe.AsRef<byte>((byte*)slot.Start + (uint)address);
    }

    /// <summary><paramref name="length"/> bytes from <paramref name="address"/>, which stay readable while the arena is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Span(long address, int length) => MemoryMarshal.CreateSpan(ref At(address), length);

    /// <summary><paramref name="length"/> bytes from <paramref name="address"/> as memory; readable until the arena is recycled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Memory<byte> Memory(long address, int length)
    {
        ref readonly var slot = ref Volatile.Read(ref _chunks)[(int)(address >> 32)];
        return slot.Managed is { } array
            ? array.AsMemory((int)(uint)address, length)
            : slot.Native!.Memory.Slice((int)(uint)address, length);
    }

    /// <summary>
    /// Gives the full-size chunks back to the pool and frees the others; the arena is unusable after it (an address no
    /// longer resolves). Only once nothing reads this arena's rows: a reader still on them would see another
    /// memtable's bytes, or freed memory. Once.
    /// </summary>
    public void Recycle()
    {
        var chunks = _chunks;
        var count = _chunkCount;
        Volatile.Write(ref _chunks, []);
        _chunkCount = 0;
        _current = -1;
        for (var i = 0; i < count; i++)
        {
            if (chunks[i].Native is { } native)
            {
                _pool!.Return(native);
            }
        }
    }

    private int AddChunk(int bytes)
    {
        Slot chunk;
        if (_pool is null)
        {
            chunk = new Slot(GC.AllocateUninitializedArray<byte>(bytes));
        }
        else
        {
            var native = (bytes == MaxChunkBytes ? _pool.TryRent() : null) ?? _pool.Allocate(bytes);
            native.Owner = this;
            chunk = new Slot(native);
        }

        var index = _chunkCount;
        if (index == _chunks.Length)
        {
            var grown = new Slot[index * 2];
            Array.Copy(_chunks, grown, index);
            grown[index] = chunk;
            Volatile.Write(ref _chunks, grown);
        }
        else
        {
            // Readers reach this slot only through a link published after it (a release write), so a plain write is enough.
            _chunks[index] = chunk;
        }

        _chunkCount = index + 1;
        Interlocked.Add(ref _reservedBytes, bytes);
        return index;
    }

    /// <summary>A chunk: a managed array, or a native chunk with its first byte's address (one load fewer to resolve).</summary>
    private readonly struct Slot
    {
        public readonly byte[]? Managed;
        public readonly MemtableChunk? Native;
        public readonly nint Start;
        public readonly int Length;

        public Slot(byte[] managed) => (Managed, Length) = (managed, managed.Length);

        public Slot(MemtableChunk native) => (Native, Start, Length) = (native, (nint)native.Start, native.Length);
    }
}
