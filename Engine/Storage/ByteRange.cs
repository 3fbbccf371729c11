namespace SlateSharp.Storage;

/// <summary>
/// Which bytes of an object to read: all of it, <see cref="Length"/> bytes from <see cref="Offset"/>, or the last
/// <see cref="Length"/> bytes (a suffix, as an SST reader fetches its footer in one request).
/// </summary>
public readonly record struct ByteRange
{
    private ByteRange(long offset, long length, bool isSuffix)
    {
        Offset = offset;
        Length = length;
        IsSuffix = isSuffix;
    }

    /// <summary>The whole object.</summary>
    public static ByteRange All { get; } = new(0, -1, false);

    /// <summary>Start of the range (unused for a suffix).</summary>
    public long Offset { get; }

    /// <summary>Number of bytes wanted; -1 means "to the end".</summary>
    public long Length { get; }

    /// <summary>True when this is the last <see cref="Length"/> bytes of the object.</summary>
    public bool IsSuffix { get; }

    /// <summary>True for <see cref="All"/>.</summary>
    public bool IsAll => !IsSuffix && Offset == 0 && Length < 0;

    /// <summary><paramref name="length"/> bytes starting at <paramref name="offset"/>.</summary>
    public static ByteRange FromOffset(long offset, long length)
    {
        if (offset < 0 || length < 0)
        {
            throw Errors.Invalid($"invalid byte range: offset and length must be non-negative (offset={offset} length={length})");
        }

        return new ByteRange(offset, length, false);
    }

    /// <summary>Everything from <paramref name="offset"/> to the end.</summary>
    public static ByteRange From(long offset)
    {
        if (offset < 0)
        {
            throw Errors.Invalid($"invalid byte range: offset must be non-negative (offset={offset})");
        }

        return new ByteRange(offset, -1, false);
    }

    /// <summary>The last <paramref name="length"/> bytes (fewer if the object is shorter).</summary>
    public static ByteRange Suffix(long length)
    {
        if (length < 0)
        {
            throw Errors.Invalid($"invalid byte range: suffix length must be non-negative (length={length})");
        }

        return new ByteRange(0, length, true);
    }

    /// <summary>
    /// Resolves the range against an object of <paramref name="size"/> bytes: returns the absolute start and the
    /// clipped length. A start beyond the end is an <see cref="ErrorKind.Invalid"/> error naming <paramref name="path"/>.
    /// </summary>
    public (long Start, long Length) Resolve(long size, ObjectPath path)
    {
        if (IsSuffix)
        {
            var n = Math.Min(Length, size);
            return (size - n, n);
        }

        if (Offset > size)
        {
            throw Errors.Invalid($"byte range starts beyond the end of the object (path={path} offset={Offset} size={size})");
        }

        var available = size - Offset;
        return (Offset, Length < 0 ? available : Math.Min(Length, available));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        IsAll ? "all" : IsSuffix ? $"last {Length} bytes" : Length < 0 ? $"from {Offset}" : $"{Offset}+{Length}";
}
