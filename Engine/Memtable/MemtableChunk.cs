using System.Buffers;
using System.Runtime.CompilerServices;

namespace SlateSharp.Memtable;

/// <summary>
/// One block of native memory for memtable rows (<see cref="MemtableArena"/>). Native, not a managed array, so a
/// gigabyte of unflushed rows is not part of the GC's heap: the collector neither sizes its generation-2 and
/// large-object budgets by it (and lets that much more garbage pile up between collections) nor keeps freed chunks
/// until a gen-2 collection; <see cref="Free"/> gives the memory back to the system at once (<see cref="PageMemory"/>).
/// </summary>
/// <remarks>
/// Only for memtables whose lifetime is explicit (a database's, which its read views hold and recycle once nothing
/// reads them: <see cref="MemoryTable.ReleaseHold"/>): freed by the pool when it drops the chunk or closes, and by an
/// arena that gives its chunks back (<see cref="MemtableArena.Recycle"/>), or that is finalized without having been
/// recycled. No finalizer of its own: a span into the chunk does not keep it reachable, so freeing it when it becomes
/// unreachable could free memory a read is still on (CA2015); a row's memory keeps the chunk's <see cref="Owner"/>
/// reachable instead. The bytes are not cleared.
/// </remarks>
internal sealed unsafe class MemtableChunk : MemoryManager<byte>
{
    private readonly MemtableChunkPool? _allocator;
    private byte* _start;

    /// <param name="length">Bytes, not cleared.</param>
    /// <param name="allocator">The pool that counts the chunk among the bytes it allocated (<see cref="MemtableChunkPool.AllocatedBytes"/>).</param>
    public MemtableChunk(int length, MemtableChunkPool? allocator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _start = PageMemory.Allocate(length);
        Length = length;
        _allocator = allocator;
    }

    public int Length { get; }

    /// <summary>The arena the chunk is in (null in the pool): whatever holds the chunk's memory keeps the arena reachable.</summary>
    public MemtableArena? Owner { get; set; }

    /// <summary>The first byte; null once freed.</summary>
    public byte* Start => _start;

    public bool IsFreed => _start is null;

    /// <summary>Gives the memory back to the allocator; nothing may read the chunk's bytes afterwards. Idempotent.</summary>
    public void Free() => ((IDisposable)this).Dispose();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_start is null, this);
        return new Span<byte>(_start, Length);
    }

    /// <summary>Native memory never moves, so pinning is only handing out the address.</summary>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_start is null, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)Length, nameof(elementIndex));
        return new MemoryHandle(_start + elementIndex, pinnable: this);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        var start = _start;
        _start = null;
        if (start is not null)
        {
            PageMemory.Free(start, Length);
            _allocator?.Freed(Length);
        }
    }
}
