namespace SlateSharp.Sst;

/// <summary>
/// The arrays of blocks the cache evicted and nothing still reads (<see cref="Block.TryReuse"/>), handed to the next
/// blocks read: a stream of block-cache misses then allocates nothing, so it no longer feeds the pinned heap and the
/// generation-2 collections that its growth sets off. Sizes are rounded up to a multiple of
/// <see cref="Granularity"/>, one free list each; at most <see cref="MaxIdle"/> arrays wait in all, the rest go to the
/// collector. Arrays are on the pinned object heap, which the collector counts as old from the start.
/// </summary>
internal sealed class BlockRecycler
{
    /// <summary>Buffer sizes are multiples of this.</summary>
    public const int Granularity = 512;

    /// <summary>Blocks larger than this get an array of their own, never reused.</summary>
    public const int MaxBufferBytes = 256 << 10;

    /// <summary>How many idle buffers are kept at most.</summary>
    public const int MaxIdle = 256;

    private readonly Lock _lock = new();
    private readonly Stack<byte[]>?[] _idle = new Stack<byte[]>?[(MaxBufferBytes / Granularity) + 1];
    private int _idleCount;
    private long _reused;

    /// <summary>Arrays handed out again (tests and stats).</summary>
    public long Reused
    {
        get
        {
            lock (_lock)
            {
                return _reused;
            }
        }
    }

    /// <summary>Idle arrays (tests).</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _idleCount;
            }
        }
    }

    /// <summary>Whether a block of <paramref name="length"/> bytes gets a reusable array.</summary>
    public static bool Fits(int length) => length is > 0 and <= MaxBufferBytes;

    /// <summary>A pinned array of at least <paramref name="length"/> bytes (<see cref="Fits"/>): an idle one, or new.</summary>
    public byte[] Rent(int length)
    {
        var size = SizeClass(length);
        lock (_lock)
        {
            if (_idle[size] is { Count: > 0 } stack)
            {
                _idleCount--;
                _reused++;
                return stack.Pop();
            }
        }

        return GC.AllocateUninitializedArray<byte>(size * Granularity, pinned: true);
    }

    /// <summary>Keeps an array the cache took back (<see cref="Block.TryReuse"/>) for a later block, unless enough wait already.</summary>
    public void Return(byte[] array)
    {
        var size = array.Length / Granularity;
        lock (_lock)
        {
            if (_idleCount < MaxIdle && array.Length % Granularity == 0 && size < _idle.Length)
            {
                (_idle[size] ??= new Stack<byte[]>()).Push(array);
                _idleCount++;
            }
        }
    }

    private static int SizeClass(int length) => (length + Granularity - 1) / Granularity;
}
