namespace SlateSharp.Storage;

/// <summary>
/// A validated, store-relative object name made of '/'-separated segments, e.g. <c>wal/00000000000000000001.sst</c>.
/// Segments are non-empty, never <c>.</c> or <c>..</c>, contain no backslash or control character, and do not start
/// with <see cref="ReservedPrefix"/> (stores keep their temporary and probe files under that name).
/// </summary>
public readonly record struct ObjectPath
{
    /// <summary>Segment prefix reserved for store-internal files (temporary uploads, probes, locks).</summary>
    public const string ReservedPrefix = ".slatesharp";

    /// <summary>The longest path accepted, in UTF-8 bytes (S3 allows 1024).</summary>
    public const int MaxLengthBytes = 1024;

    private ObjectPath(string value) => Value = value;

    /// <summary>The path as text.</summary>
    public string Value { get; }

    /// <summary>Validates <paramref name="value"/> and returns it as a path; throws <see cref="ErrorKind.Invalid"/> otherwise.</summary>
    public static ObjectPath Parse(string value)
    {
        var problem = Validate(value, allowPartialLastSegment: false);
        if (problem is not null)
        {
            throw Errors.Invalid($"invalid object path: {problem} (path={Printable(value)})");
        }

        return new ObjectPath(value);
    }

    /// <summary>Joins a validated path and a child segment (or sub-path).</summary>
    public ObjectPath Child(string relative) => Parse(Value + "/" + relative);

    /// <summary>The segments of the path.</summary>
    public string[] Segments() => Value.Split('/');

    /// <summary>The last segment.</summary>
    public string Name => Value[(Value.LastIndexOf('/') + 1)..];

    /// <inheritdoc/>
    public override string ToString() => Value ?? string.Empty;

    /// <summary>
    /// Validates a listing prefix: empty, or a path whose last segment may be partial or empty
    /// (<c>wal/</c>, <c>manifest/0000</c>). Throws <see cref="ErrorKind.Invalid"/> otherwise.
    /// </summary>
    public static string ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length == 0)
        {
            return prefix;
        }

        var problem = Validate(prefix, allowPartialLastSegment: true);
        if (problem is not null)
        {
            throw Errors.Invalid($"invalid list prefix: {problem} (prefix={Printable(prefix)})");
        }

        return prefix;
    }

    private static string? Validate(string? value, bool allowPartialLastSegment)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "empty";
        }

        if (System.Text.Encoding.UTF8.GetByteCount(value) > MaxLengthBytes)
        {
            return $"longer than {MaxLengthBytes} bytes";
        }

        var segments = value.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var isLast = i == segments.Length - 1;
            if (segment.Length == 0)
            {
                if (isLast && allowPartialLastSegment && i > 0)
                {
                    continue;
                }

                return "empty segment";
            }

            if (segment is "." or "..")
            {
                return "'.' or '..' segment";
            }

            if (segment.StartsWith(ReservedPrefix, StringComparison.Ordinal))
            {
                return $"segment starts with the reserved prefix '{ReservedPrefix}'";
            }

            for (var j = 0; j < segment.Length; j++)
            {
                var c = segment[j];
                if (c == '\\')
                {
                    return "backslash";
                }

                if (char.IsControl(c))
                {
                    return "control character";
                }

                if (char.IsHighSurrogate(c) && j + 1 < segment.Length && char.IsLowSurrogate(segment[j + 1]))
                {
                    j++;
                }
                else if (char.IsSurrogate(c))
                {
                    return "unpaired surrogate";
                }
            }
        }

        return null;
    }

    private static string Printable(string? value)
    {
        if (value is null)
        {
            return "<null>";
        }

        var builder = new System.Text.StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c is '"' or '\\' ? builder.Append('\\').Append(c)
                : char.IsControl(c) || char.IsSurrogate(c) ? builder.Append(System.FormattableString.Invariant($"\\u{(int)c:x4}"))
                : builder.Append(c);
        }

        return builder.Append('"').ToString();
    }
}
