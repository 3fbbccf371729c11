using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SlateSharp.Memtable;

/// <summary>
/// Append-only memory for one memtable's skip-list nodes: byte chunks that grow from 4 KiB to 1 MiB (a node larger
/// than a quarter of that gets a chunk of its own), so a row costs no object of its own and the GC sees a few large
/// arrays instead of millions of small ones that it would copy from generation to generation. An address is
/// (chunk index &lt;&lt; 32 | offset), every allocation is 8-byte aligned (so links can be read and written
/// atomically), and address 0 is the first allocation, which the skip list's head takes: a link of 0 means none.
/// One writer allocates at a time; readers resolve addresses concurrently without locks. With a
/// <see cref="MemtableChunkPool"/>, full-size chunks come from it and go back to it on <see cref="Recycle"/>.
/// </summary>
internal sealed class MemtableArena(MemtableChunkPool? pool = null)
{
    public const int FirstChunkBytes = 4 << 10;
    public const int MaxChunkBytes = 1 << 20;
    private const int OwnChunkAbove = MaxChunkBytes / 4;

    // Slots below _chunkCount never change once written; a grown array is published whole, after its chunk is in it.
    private byte[][] _chunks = new byte[8][];
    private int _chunkCount;
    private int _current = -1;
    private int _used;
    private int _nextChunkBytes = FirstChunkBytes;
    private long _reservedBytes;

    /// <summary>Bytes of every chunk allocated so far (what the arena holds on the heap, used or not).</summary>
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

    /// <summary>The chunk holding <paramref name="address"/>, and the address's offset in it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte[] Resolve(long address, out int offset)
    {
        offset = (int)(uint)address;
        return Volatile.Read(ref _chunks)[(int)(address >> 32)];
    }

    /// <summary>A reference to the byte at <paramref name="address"/>, for reads and writes of fixed-size fields.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref byte At(long address)
    {
        var chunk = Resolve(address, out var offset);
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunk), offset);
    }

    /// <summary>
    /// Gives the full-size chunks back to the pool; the arena is unusable after it (an address no longer resolves).
    /// Only once nothing reads this arena's rows: a reader still on them would see another memtable's bytes. Once.
    /// </summary>
    public void Recycle()
    {
        var chunks = _chunks;
        var count = _chunkCount;
        Volatile.Write(ref _chunks, []);
        _chunkCount = 0;
        _current = -1;
        if (pool is null)
        {
            return;
        }

        for (var i = 0; i < count; i++)
        {
            pool.Return(chunks[i]);
        }
    }

    private int AddChunk(int bytes)
    {
        var chunk = (bytes == MaxChunkBytes ? pool?.TryRent() : null) ?? GC.AllocateUninitializedArray<byte>(bytes);
        var index = _chunkCount;
        if (index == _chunks.Length)
        {
            var grown = new byte[index * 2][];
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
}
