using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SlateSharp.Compression;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// One decoded data block: its raw rows and restart array, checked for framing (checksum, codec, restart offsets).
/// Rows are decoded, and checked, lazily by <see cref="BlockIterator"/>. Immutable and shareable (the block cache
/// hands the same instance to many readers).
/// </summary>
internal sealed class Block : MemoryManager<byte>
{
    private const int CountMask = (1 << 29) - 1;
    private const int EscapedFlag = 1 << 29;
    private const int ReusedFlag = 1 << 30;

    private int _capacity;
    private int _state; // leases, escaped, reused: changed only by compare-and-swap once the block is shared

    private Block(ReadOnlyMemory<byte> data, int entriesEnd, int restartCount, string path, long offset)
    {
        _capacity = data.Length;
        Data = data;
        EntriesEnd = entriesEnd;
        RestartCount = restartCount;
        Path = path;
        Offset = offset;
    }

    /// <summary>The raw block: rows, restart offsets, restart count.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Where the rows end and the restart array starts.</summary>
    public int EntriesEnd { get; }

    /// <summary>Number of restart points (at least one).</summary>
    public int RestartCount { get; }

    /// <summary>How error messages name the object the block came from (its path, and the store where the reader knows it).</summary>
    public string Path { get; }

    /// <summary>The stored block's offset in the object, for error messages and cache keys.</summary>
    public long Offset { get; }

    /// <summary>Managed bytes this block keeps alive (what the block cache charges).</summary>
    public int Size => _capacity + 96;

    /// <summary>Whether the block's bytes are in a pinned array the cache may hand to a later block once it is evicted (<see cref="BlockRecycler"/>).</summary>
    public bool IsReusable { get; private set; }

    /// <summary>Leases held (tests).</summary>
    internal int Leases => Volatile.Read(ref _state) & CountMask;

    /// <summary>Whether the block was marked escaped (tests).</summary>
    internal bool IsEscaped => (Volatile.Read(ref _state) & EscapedFlag) != 0;

    /// <summary>Records that this block, not yet shared, lives at the start of a reusable array (<see cref="BlockRecycler.Rent"/>).</summary>
    public Block InReusableArray(byte[] array)
    {
        IsReusable = true;
        _capacity = array.Length;
        return this;
    }

    /// <summary>
    /// Before a get reads a shared block: a lease, which the get ends once it has copied what it found
    /// (<see cref="BlockLeases.Release"/>). False when the cache has handed the block's array to another block: read
    /// it again.
    /// </summary>
    public bool TryLease()
    {
        if (!IsReusable)
        {
            return true;
        }

        while (true)
        {
            var state = Volatile.Read(ref _state);
            if ((state & ReusedFlag) != 0 || (state & CountMask) == CountMask)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
            {
                return true;
            }
        }
    }

    /// <summary>Ends a lease <see cref="TryLease"/> took; exactly once per lease.</summary>
    public void Release()
    {
        if (IsReusable)
        {
            Interlocked.Decrement(ref _state);
        }
    }

    /// <summary>
    /// Before anything else reads a shared block (an iterator, a scan, whose rows alias the block and outlive the
    /// read): marks its array as never to be reused. False when the cache has already handed it to another block.
    /// </summary>
    public bool TryEscape()
    {
        if (!IsReusable)
        {
            return true;
        }

        while (true)
        {
            var state = Volatile.Read(ref _state);
            if ((state & ReusedFlag) != 0)
            {
                return false;
            }

            if ((state & EscapedFlag) != 0 || Interlocked.CompareExchange(ref _state, state | EscapedFlag, state) == state)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Takes back the array of a block the cache has evicted, when no lease is held and it never escaped; after this no
    /// read of the block can begin (<see cref="TryLease"/> and <see cref="TryEscape"/> fail). Null otherwise.
    /// </summary>
    public byte[]? TryReuse() =>
        IsReusable && Interlocked.CompareExchange(ref _state, ReusedFlag, 0) == 0 && MemoryMarshal.TryGetArray(Data, out var bytes) ? bytes.Array : null;

    /// <summary>
    /// A value found in the block as memory for a row: over this block itself when its array may be reused, so the
    /// get that copies it can find the block to release (<see cref="BlockLeases"/>); a plain slice otherwise.
    /// </summary>
    public ReadOnlyMemory<byte> Slice(int start, int length) => IsReusable ? CreateMemory(Data.Length).Slice(start, length) : Data.Slice(start, length);

    /// <summary>The offset of restart point <paramref name="index"/> within <see cref="Data"/>.</summary>
    public int RestartAt(int index) => (int)BinaryPrimitives.ReadUInt32LittleEndian(Data.Span[(EntriesEnd + (4 * index))..]);

    /// <summary>
    /// Writes a finished raw block as stored: compressed with <paramref name="codec"/> when that saves at least an
    /// eighth, otherwise as is, then the trailer (raw length, codec actually used, CRC32C). Returns the stored length.
    /// </summary>
    public static int WriteStored(ReadOnlySpan<byte> raw, CompressionCodec codec, int zstdLevel, IBufferWriter<byte> output, out CompressionCodec used)
    {
        byte[]? rented = null;
        try
        {
            var payload = raw;
            used = CompressionCodec.None;
            if (codec != CompressionCodec.None && raw.Length > 0)
            {
                rented = ArrayPool<byte>.Shared.Rent(BlockCompressor.MaxCompressedLength(codec, raw.Length));
                var compressedLength = BlockCompressor.Compress(codec, raw, rented, zstdLevel);
                if (compressedLength <= raw.Length - (raw.Length / 8))
                {
                    payload = rented.AsSpan(0, compressedLength);
                    used = codec;
                }
            }

            var total = payload.Length + SstFormat.BlockTrailerLength;
            var span = output.GetSpan(total);
            payload.CopyTo(span);
            BinaryPrimitives.WriteUInt32LittleEndian(span[payload.Length..], (uint)raw.Length);
            span[payload.Length + 4] = (byte)used;
            var crc = Crc32C.Compute(span[..(payload.Length + 5)]);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(payload.Length + 5)..], crc);
            output.Advance(total);
            return total;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Verifies and decodes a stored block read from <paramref name="path"/> at <paramref name="offset"/>.
    /// <paramref name="maxRawLength"/> bounds the decompressed size before anything is allocated. An uncompressed
    /// block aliases <paramref name="stored"/> unless <paramref name="memory"/> asks for an array of its own (the
    /// caller reuses the buffer); a compressed one always gets its own array, of the kind <paramref name="memory"/> names.
    /// </summary>
    public static Block Decode(ReadOnlyMemory<byte> stored, string path, long offset, int maxRawLength, BlockMemory memory = BlockMemory.Alias)
    {
        var span = stored.Span;
        if (span.Length < SstFormat.BlockTrailerLength)
        {
            throw Errors.Data(path, offset, $"block shorter than its trailer (length={span.Length})");
        }

        var payloadLength = span.Length - SstFormat.BlockTrailerLength;
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(span[(payloadLength + 5)..]);
        var actual = Crc32C.Compute(span[..(payloadLength + 5)]);
        if (expected != actual)
        {
            throw Errors.Data(path, offset, $"block checksum mismatch (expected={expected:x8} actual={actual:x8})");
        }

        var rawLength = BinaryPrimitives.ReadUInt32LittleEndian(span[payloadLength..]);
        var codec = (CompressionCodec)span[payloadLength + 4];
        var payload = stored[..payloadLength];
        if (codec == CompressionCodec.None)
        {
            if (rawLength != (uint)payloadLength)
            {
                throw Errors.Data(path, offset, $"uncompressed block length mismatch (raw={rawLength} stored={payloadLength})");
            }

            return Parse(memory == BlockMemory.Alias ? payload : CopyOf(payload.Span, memory), path, offset);
        }

        if (codec is not (CompressionCodec.Lz4 or CompressionCodec.Zstd))
        {
            throw Errors.Data(path, offset, $"unknown block codec (codec={(int)codec})");
        }

        if (rawLength > (uint)maxRawLength || !BlockCompressor.IsPlausible(codec, payload.Span, (int)rawLength))
        {
            throw Errors.Data(path, offset, $"implausible decompressed block length (raw={rawLength} stored={payloadLength} codec={codec} max={maxRawLength})");
        }

        var raw = AllocateArray((int)rawLength, memory);
        if (!BlockCompressor.TryDecompress(codec, payload.Span, raw))
        {
            throw Errors.Data(path, offset, $"block does not decompress (codec={codec} raw={rawLength} stored={payloadLength})");
        }

        return Parse(raw, path, offset);
    }

    /// <summary>An uninitialised array for a block's bytes, on the heap <paramref name="memory"/> names (<see cref="BlockMemory.LongLived"/>: pinned).</summary>
    public static byte[] AllocateArray(int length, BlockMemory memory) =>
        memory == BlockMemory.LongLived ? GC.AllocateUninitializedArray<byte>(length, pinned: true) : GC.AllocateUninitializedArray<byte>(length);

    private static byte[] CopyOf(ReadOnlySpan<byte> payload, BlockMemory memory)
    {
        var copy = AllocateArray(payload.Length, memory);
        payload.CopyTo(copy);
        return copy;
    }

    /// <summary>Checks the restart array of a raw block and wraps it.</summary>
    public static Block Parse(ReadOnlyMemory<byte> raw, string path, long offset)
    {
        var span = raw.Span;
        if (span.Length < 4)
        {
            throw Errors.Data(path, offset, $"block too short for a restart count (length={span.Length})");
        }

        var restartCount = BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]);
        if (restartCount == 0 || restartCount > (uint)((span.Length - 4) / 4))
        {
            throw Errors.Data(path, offset, $"bad restart count (count={restartCount} length={span.Length})");
        }

        var entriesEnd = span.Length - 4 - (4 * (int)restartCount);
        if (entriesEnd == 0)
        {
            throw Errors.Data(path, offset, "block has restart points but no rows");
        }

        var previous = -1L;
        for (var i = 0; i < restartCount; i++)
        {
            var restart = BinaryPrimitives.ReadUInt32LittleEndian(span[(entriesEnd + (4 * i))..]);
            if ((i == 0 && restart != 0) || restart <= previous || restart >= (uint)entriesEnd)
            {
                throw Errors.Data(path, offset, $"bad restart offset (index={i} restart={restart} rows_end={entriesEnd})");
            }

            previous = restart;
        }

        return new Block(raw, entriesEnd, (int)restartCount, path, offset);
    }

    /// <summary>A reusable block's values are memory over the block itself (<see cref="Slice"/>): its bytes, on the pinned heap.</summary>
    public override Span<byte> GetSpan() => MemoryMarshal.AsMemory(Data).Span;

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        // A reusable block's array is on the pinned object heap, and others are only read through spans: nothing moves.
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)Data.Length);
        return new MemoryHandle(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetReference(GetSpan()), elementIndex)));
    }

    public override void Unpin()
    {
    }

    /// <summary>Nothing to release: the array goes back to the cache's recycler or to the collector.</summary>
    protected override void Dispose(bool disposing)
    {
    }
}
