using SlateSharp.Format;

namespace SlateSharp;

/// <summary>
/// The keys a scan covers: from a start key (inclusive) to an end key (exclusive), either end possibly unbounded.
/// <c>default(KeyRange)</c> is <see cref="All"/>. Bounds are 1 to 65,535 bytes like every key; a range whose start
/// equals its end is empty (and valid). The range refers to the bytes it is given, without copying them: do not
/// change them while a scan of it runs.
/// </summary>
public readonly struct KeyRange
{
    private KeyRange(ReadOnlyMemory<byte> start, bool hasStart, ReadOnlyMemory<byte> end, bool hasEnd)
    {
        Start = start;
        HasStart = hasStart;
        End = end;
        HasEnd = hasEnd;
    }

    /// <summary>Every key.</summary>
    public static KeyRange All => default;

    /// <summary>The inclusive lower bound; empty when <see cref="HasStart"/> is false.</summary>
    public ReadOnlyMemory<byte> Start { get; }

    /// <summary>The exclusive upper bound; empty when <see cref="HasEnd"/> is false.</summary>
    public ReadOnlyMemory<byte> End { get; }

    /// <summary>True when the range starts at <see cref="Start"/>; false when it starts at the first key.</summary>
    public bool HasStart { get; }

    /// <summary>True when the range ends before <see cref="End"/>; false when it runs to the last key.</summary>
    public bool HasEnd { get; }

    /// <summary>True when no key can fall in the range (its start equals its end).</summary>
    public bool IsEmpty => HasStart && HasEnd && Start.Span.SequenceEqual(End.Span);

    /// <summary>Every key at or after <paramref name="startInclusive"/>.</summary>
    public static KeyRange From(ReadOnlyMemory<byte> startInclusive)
    {
        ValidateBound(startInclusive.Span, "start");
        return new(startInclusive, true, default, false);
    }

    /// <summary>Every key before <paramref name="endExclusive"/>.</summary>
    public static KeyRange Until(ReadOnlyMemory<byte> endExclusive)
    {
        ValidateBound(endExclusive.Span, "end");
        return new(default, false, endExclusive, true);
    }

    /// <summary>Every key at or after <paramref name="startInclusive"/> and before <paramref name="endExclusive"/>.</summary>
    public static KeyRange Between(ReadOnlyMemory<byte> startInclusive, ReadOnlyMemory<byte> endExclusive)
    {
        ValidateBound(startInclusive.Span, "start");
        ValidateBound(endExclusive.Span, "end");
        if (startInclusive.Span.SequenceCompareTo(endExclusive.Span) > 0)
        {
            throw Errors.Invalid($"key range start sorts after its end (start={Convert.ToHexString(startInclusive.Span)} end={Convert.ToHexString(endExclusive.Span)})");
        }

        return new(startInclusive, true, endExclusive, true);
    }

    /// <summary>
    /// Every key that starts with <paramref name="prefix"/>: from the prefix itself to the prefix with its last byte
    /// below 0xFF incremented and the bytes after it dropped (<c>61 62 FF</c> ends before <c>61 63</c>); unbounded
    /// above when the prefix is all 0xFF bytes. The end is a new array; the start is <paramref name="prefix"/>.
    /// </summary>
    public static KeyRange Prefix(ReadOnlyMemory<byte> prefix)
    {
        ValidateBound(prefix.Span, "prefix");
        var span = prefix.Span;
        var last = span.Length - 1;
        while (last >= 0 && span[last] == 0xFF)
        {
            last--;
        }

        if (last < 0)
        {
            return new(prefix, true, default, false);
        }

        var end = span[..(last + 1)].ToArray();
        end[last]++;
        return new(prefix, true, end, true);
    }

    /// <summary>True when <paramref name="key"/> falls in the range.</summary>
    public bool Contains(ReadOnlySpan<byte> key) =>
        (!HasStart || key.SequenceCompareTo(Start.Span) >= 0) && (!HasEnd || key.SequenceCompareTo(End.Span) < 0);

    /// <summary>True when some key in [<paramref name="first"/>, <paramref name="last"/>] (both inclusive) falls in the range.</summary>
    internal bool Overlaps(ReadOnlySpan<byte> first, ReadOnlySpan<byte> last) =>
        (!HasStart || Start.Span.SequenceCompareTo(last) <= 0) && (!HasEnd || End.Span.SequenceCompareTo(first) > 0);

    /// <inheritdoc/>
    public override string ToString() =>
        $"[{(HasStart ? Convert.ToHexString(Start.Span) : "-inf")}, {(HasEnd ? Convert.ToHexString(End.Span) : "+inf")})";

    private static void ValidateBound(ReadOnlySpan<byte> key, string what)
    {
        if (key.IsEmpty || key.Length > RowEntry.MaxKeyLength)
        {
            throw Errors.Invalid($"key range {what} must be 1 to {RowEntry.MaxKeyLength} bytes (length={key.Length}); use KeyRange.All, From or Until for an unbounded end");
        }
    }
}
