namespace SlateSharp.Format;

/// <summary>
/// One version of one key: the unit every format stores. Rows sort in <see cref="KeyComparer"/> order (key ascending
/// as unsigned bytes, then sequence descending, so the newest version of a key comes first).
/// </summary>
/// <remarks>
/// Decoders hand out rows whose <see cref="Value"/> (and, for WAL objects, <see cref="Key"/>) alias the decoded buffer.
/// Those buffers are immutable once decoded, so a row stays valid for as long as it is referenced.
/// Equality compares contents, not buffer identity.
/// </remarks>
internal readonly struct RowEntry : IEquatable<RowEntry>
{
    /// <summary>The longest key accepted, in bytes.</summary>
    public const int MaxKeyLength = ushort.MaxValue;

    /// <summary>The longest value accepted, in bytes (64 MiB).</summary>
    public const int MaxValueLength = 64 << 20;

    /// <summary>Creates a row. Limits are checked by the encoders, not here.</summary>
    public RowEntry(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, ulong sequence, RowKind kind, long? expireAt = null)
    {
        Key = key;
        Value = value;
        Sequence = sequence;
        Kind = kind;
        ExpireAt = expireAt;
    }

    /// <summary>The key: 1 to <see cref="MaxKeyLength"/> bytes.</summary>
    public ReadOnlyMemory<byte> Key { get; }

    /// <summary>The value (empty for a tombstone; for a range delete the exclusive end key).</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The sequence number of the write that produced this row.</summary>
    public ulong Sequence { get; }

    /// <summary>Put, tombstone, merge operand or range delete.</summary>
    public RowKind Kind { get; }

    /// <summary>When the row expires, in Unix milliseconds, or null for never.</summary>
    public long? ExpireAt { get; }

    /// <summary>A put row.</summary>
    public static RowEntry Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, ulong sequence, long? expireAt = null) =>
        new(key, value, sequence, RowKind.Put, expireAt);

    /// <summary>A tombstone row.</summary>
    public static RowEntry Delete(ReadOnlyMemory<byte> key, ulong sequence) =>
        new(key, ReadOnlyMemory<byte>.Empty, sequence, RowKind.Delete);

    /// <summary>
    /// A range delete of [<paramref name="start"/>, <paramref name="endExclusive"/>): key = start, value = end (docs/format/wal.md).
    /// The end must sort after the start; the WAL encoder checks that, not this factory.
    /// </summary>
    public static RowEntry RangeDelete(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> endExclusive, ulong sequence) =>
        new(start, endExclusive, sequence, RowKind.RangeDelete);

    /// <summary>The same row in memory of its own: key and value copied into one new array.</summary>
    public RowEntry Copy()
    {
        var bytes = new byte[Key.Length + Value.Length];
        Key.Span.CopyTo(bytes);
        Value.Span.CopyTo(bytes.AsSpan(Key.Length));
        return new RowEntry(bytes.AsMemory(0, Key.Length), bytes.AsMemory(Key.Length), Sequence, Kind, ExpireAt);
    }

    /// <inheritdoc/>
    public bool Equals(RowEntry other) =>
        Sequence == other.Sequence && Kind == other.Kind && ExpireAt == other.ExpireAt &&
        Key.Span.SequenceEqual(other.Key.Span) && Value.Span.SequenceEqual(other.Value.Span);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is RowEntry other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Key.Span);
        hash.Add(Sequence);
        return hash.ToHashCode();
    }

    /// <summary>Content equality.</summary>
    public static bool operator ==(RowEntry left, RowEntry right) => left.Equals(right);

    /// <summary>Content inequality.</summary>
    public static bool operator !=(RowEntry left, RowEntry right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Convert.ToHexString(Key.Span)}@{Sequence} {Kind} value={Value.Length}B" + (ExpireAt is { } e ? $" expire={e}" : "");
}
