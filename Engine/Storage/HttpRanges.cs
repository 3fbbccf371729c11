using System.Buffers;
using System.Globalization;

namespace SlateSharp.Storage;

/// <summary>HTTP <c>Range</c> requests as the cloud stores make them: the header for a <see cref="ByteRange"/>, the
/// <c>Content-Range</c> answer, and reading a body of known length whole.</summary>
internal static class HttpRanges
{
    /// <summary>
    /// The Range header value for <paramref name="range"/>, or null for the whole object and for empty ranges (HTTP
    /// cannot ask for zero bytes: the caller resolves those against the object's size).
    /// </summary>
    public static string? Header(ByteRange range) =>
        range.IsAll ? null
        : range.IsSuffix ? (range.Length == 0 ? null : $"bytes=-{range.Length}")
        : range.Length < 0 ? $"bytes={range.Offset}-"
        : range.Length == 0 ? null
        : $"bytes={range.Offset}-{range.Offset + range.Length - 1}";

    /// <summary>Parses <c>bytes start-end/size</c> into the start and the whole object's size.</summary>
    public static (long Start, long Size) ParseContentRange(string? header, string what, string key)
    {
        if (header is not null && header.StartsWith("bytes ", StringComparison.Ordinal))
        {
            var dash = header.IndexOf('-', StringComparison.Ordinal);
            var slash = header.IndexOf('/', StringComparison.Ordinal);
            if (dash > 6 && slash > dash
                && long.TryParse(header.AsSpan(6, dash - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                && long.TryParse(header.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                return (start, size);
            }
        }

        throw Errors.Data(key, $"{what}: a ranged get answered with a bad Content-Range header '{header}'");
    }

    /// <summary>
    /// Where a body of <paramref name="length"/> bytes goes: <paramref name="into"/>'s first bytes, or a new array when
    /// <paramref name="into"/> is empty. A body longer than <paramref name="into"/> is a server answering another range.
    /// </summary>
    public static Memory<byte> Destination(Memory<byte> into, long length, string what, string key)
    {
        if (length > Array.MaxLength)
        {
            throw Errors.Invalid($"a single read is limited to {Array.MaxLength} bytes; read in ranges (path={key} length={length})");
        }

        if (into.IsEmpty)
        {
            return new byte[length];
        }

        return length <= into.Length
            ? into[..(int)length]
            : throw Errors.Data(key, $"{what}: the server answered with {length} bytes, more than the {into.Length} asked for");
    }

    /// <summary>
    /// Skips <paramref name="skip"/> bytes of <paramref name="body"/> (the part before the range, when the server
    /// ignored the Range header and sent the whole object), then fills <paramref name="destination"/>; a body that ends
    /// early is a transient failure.
    /// </summary>
    public static async ValueTask ReadBodyAsync(Stream body, long skip, Memory<byte> destination, string what, string key, CancellationToken cancellationToken)
    {
        if (skip > 0)
        {
            var scratch = ArrayPool<byte>.Shared.Rent((int)Math.Min(skip, 64 << 10));
            try
            {
                for (var left = skip; left > 0;)
                {
                    var read = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(left, scratch.Length)), cancellationToken).ConfigureAwait(false);
                    left -= read > 0 ? read : throw Errors.Unavailable($"{what}: the response ended {left} bytes before the range began (path={key})");
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        var got = await body.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got < destination.Length)
        {
            throw Errors.Unavailable($"{what}: the response ended after {got} of {destination.Length} bytes (path={key})");
        }
    }

    /// <summary>
    /// Answers a range HTTP cannot ask for (empty) or that the server refused with 416 (at or past the end, or any range
    /// of an empty object): learns the size with <paramref name="head"/> and resolves the range against it, which gives
    /// an empty result at the end and <see cref="ErrorKind.Invalid"/> beyond it.
    /// </summary>
    public static async ValueTask<GetResult?> ResolveWithoutBodyAsync(ObjectPath path, ByteRange range, Func<ValueTask<ObjectMetadata?>> head)
    {
        if (await head().ConfigureAwait(false) is not { } metadata)
        {
            return null;
        }

        var (start, _) = range.Resolve(metadata.Size, path);
        return new GetResult(metadata, start, ReadOnlyMemory<byte>.Empty);
    }
}
