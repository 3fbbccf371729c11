using System.Buffers;
using System.Buffers.Binary;

namespace SlateSharp.Format;

/// <summary>
/// Encodes one WAL data object (format version 3, stamped with the writer's epoch) incrementally: the header on construction, one checksummed record per
/// <see cref="AppendBatch(ReadOnlySpan{RowEntry})"/>, the trailer on <see cref="Finish"/> (docs/format/wal.md). A group-commit task appends
/// batches as they arrive and uploads the buffer when it is full or the flush interval passes; each append writes
/// straight into the <see cref="IBufferWriter{T}"/>, so nothing is buffered twice. Not thread-safe.
/// </summary>
internal sealed class WalObjectWriter
{
    private readonly IBufferWriter<byte> _output;
    private readonly ulong _writerEpoch;
    private bool _finished;

    /// <summary>
    /// Starts an object by writing its header to <paramref name="output"/>. <paramref name="writerEpoch"/> is the
    /// epoch of the writer that will store the object (1 to 2^63-1; anything else is an Internal error).
    /// </summary>
    public WalObjectWriter(IBufferWriter<byte> output, ulong writerEpoch)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _writerEpoch = writerEpoch;
        var span = output.GetSpan(WalObjectCodec.HeaderLength);
        WalObjectCodec.WriteHeader(span, writerEpoch);
        output.Advance(WalObjectCodec.HeaderLength);
        Length = WalObjectCodec.HeaderLength;
    }

    /// <summary>Batches appended.</summary>
    public int BatchCount { get; private set; }

    /// <summary>Rows appended.</summary>
    public long RowCount { get; private set; }

    /// <summary>Bytes written so far (the object's size after <see cref="Finish"/>).</summary>
    public long Length { get; private set; }

    /// <summary>The bytes one batch of <paramref name="rows"/> adds to an object.</summary>
    public static int EncodedLength(ReadOnlySpan<RowEntry> rows)
    {
        long total = WalObjectCodec.BatchHeaderLength + 4;
        foreach (var row in rows)
        {
            total += RowLength(row);
        }

        return total <= WalObjectCodec.MaxBatchLength ? (int)total : throw Errors.Invalid($"write batch too large for one wal record (bytes={total} max={WalObjectCodec.MaxBatchLength})");
    }

    /// <summary>Appends one batch (at least one row) as a checksummed record.</summary>
    public void AppendBatch(ReadOnlySpan<RowEntry> rows) => AppendBatch(rows, -1);

    /// <summary>
    /// Appends one batch whose <see cref="EncodedLength"/> the caller has worked out already (or -1 to work it out
    /// here), so a writer that sizes its object by it pays for the sum once.
    /// </summary>
    public void AppendBatch(ReadOnlySpan<RowEntry> rows, int encodedLength)
    {
        if (_finished)
        {
            throw Errors.Internal("wal object writer used after finish");
        }

        if (rows.IsEmpty)
        {
            throw Errors.Internal("cannot append an empty write batch to a wal object");
        }

        foreach (var row in rows)
        {
            CheckRow(row);
        }

        var total = encodedLength >= 0 ? encodedLength : EncodedLength(rows);
        var span = _output.GetSpan(total)[..total];
        var payload = span[WalObjectCodec.BatchHeaderLength..];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)rows.Length);
        var p = 4;
        foreach (var row in rows)
        {
            p += WriteRow(payload[p..], row);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Crc32C.Compute(payload));
        _output.Advance(total);
        Length += total;
        BatchCount++;
        RowCount += rows.Length;
    }

    /// <summary>Writes the trailer; the object is complete.</summary>
    public void Finish()
    {
        if (_finished)
        {
            throw Errors.Internal("wal object finished twice");
        }

        _finished = true;
        var span = _output.GetSpan(WalObjectCodec.TrailerLength);
        WalObjectCodec.WriteTrailer(span, _writerEpoch, BatchCount);
        _output.Advance(WalObjectCodec.TrailerLength);
        Length += WalObjectCodec.TrailerLength;
    }

    /// <summary>Encodes a whole object holding <paramref name="batches"/>, written by the writer of <paramref name="writerEpoch"/>.</summary>
    public static byte[] Encode(IEnumerable<IReadOnlyList<RowEntry>> batches, ulong writerEpoch)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new WalObjectWriter(buffer, writerEpoch);
        foreach (var batch in batches)
        {
            writer.AppendBatch(batch is RowEntry[] array ? array : [.. batch]);
        }

        writer.Finish();
        return buffer.WrittenSpan.ToArray();
    }

    private static long RowLength(RowEntry row) =>
        1 + 8 + (row.ExpireAt.HasValue ? 8 : 0) + Varint.Length((uint)row.Key.Length) + Varint.Length((uint)row.Value.Length) +
        (long)row.Key.Length + row.Value.Length;

    private static int WriteRow(Span<byte> span, RowEntry row)
    {
        span[0] = (byte)((byte)row.Kind | (row.ExpireAt.HasValue ? WalObjectCodec.HasExpireFlag : 0));
        BinaryPrimitives.WriteUInt64LittleEndian(span[1..], row.Sequence);
        var p = 9;
        if (row.ExpireAt is { } expire)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[p..], expire);
            p += 8;
        }

        p += Varint.Write(span[p..], (uint)row.Key.Length);
        p += Varint.Write(span[p..], (uint)row.Value.Length);
        row.Key.Span.CopyTo(span[p..]);
        p += row.Key.Length;
        row.Value.Span.CopyTo(span[p..]);
        return p + row.Value.Length;
    }

    private static void CheckRow(RowEntry row)
    {
        if (row.Key.Length is 0 or > RowEntry.MaxKeyLength)
        {
            throw Errors.Invalid($"key length out of range (length={row.Key.Length} min=1 max={RowEntry.MaxKeyLength})");
        }

        if (row.Value.Length > RowEntry.MaxValueLength)
        {
            throw Errors.Invalid($"value too long (length={row.Value.Length} max={RowEntry.MaxValueLength})");
        }

        if (row.Kind is not (RowKind.Put or RowKind.Delete or RowKind.Merge or RowKind.RangeDelete))
        {
            throw Errors.Internal($"unknown row kind (kind={(int)row.Kind})");
        }

        if (row.Kind == RowKind.RangeDelete)
        {
            CheckRangeDelete(row);
        }
    }

    /// <summary>A range delete's value is its exclusive end key: a key that sorts after the start; it never expires.</summary>
    private static void CheckRangeDelete(RowEntry row)
    {
        if (row.ExpireAt.HasValue)
        {
            throw Errors.Internal($"a range delete has no expire time (row={row})");
        }

        if (row.Value.Length is 0 or > RowEntry.MaxKeyLength)
        {
            throw Errors.Invalid($"range delete end key length out of range (length={row.Value.Length} min=1 max={RowEntry.MaxKeyLength})");
        }

        if (KeyComparer.CompareKeys(row.Value.Span, row.Key.Span) <= 0)
        {
            throw Errors.Invalid($"range delete end key must sort after its start key (start={Convert.ToHexString(row.Key.Span)} end={Convert.ToHexString(row.Value.Span)})");
        }
    }
}
