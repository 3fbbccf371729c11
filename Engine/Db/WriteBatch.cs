using SlateSharp.Format;

namespace SlateSharp;

/// <summary>
/// Puts and deletes applied atomically by <see cref="Db.WriteAsync"/>: all become visible together, under one
/// sequence number, and are durable together. When a key appears more than once, the last operation wins. The
/// batch copies keys and values, so callers may reuse their buffers.
/// </summary>
public sealed class WriteBatch
{
    private readonly List<(byte[] Key, byte[]? Value)> _operations = [];

    /// <summary>Number of operations added.</summary>
    public int Count => _operations.Count;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>.</summary>
    public WriteBatch Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        ValidateKey(key);
        if (value.Length > RowEntry.MaxValueLength)
        {
            throw Errors.Invalid($"value too large: at most {RowEntry.MaxValueLength} bytes (length={value.Length})");
        }

        _operations.Add((key.ToArray(), value.ToArray()));
        return this;
    }

    /// <summary>Removes <paramref name="key"/>.</summary>
    public WriteBatch Delete(ReadOnlySpan<byte> key)
    {
        ValidateKey(key);
        _operations.Add((key.ToArray(), null));
        return this;
    }

    /// <summary>The operations as rows at <paramref name="sequence"/>, the last per key, in key order.</summary>
    internal RowEntry[] ToRows(ulong sequence)
    {
        var last = new Dictionary<byte[], byte[]?>(ByteArrayComparer.Instance);
        foreach (var (key, value) in _operations)
        {
            last[key] = value;
        }

        var rows = last.Select(kv => kv.Value is null ? RowEntry.Delete(kv.Key, sequence) : RowEntry.Put(kv.Key, kv.Value, sequence)).ToArray();
        Array.Sort(rows, KeyComparer.Instance);
        return rows;
    }

    internal static void ValidateKey(ReadOnlySpan<byte> key)
    {
        if (key.Length is 0 or > RowEntry.MaxKeyLength)
        {
            throw Errors.Invalid($"key length must be 1 to {RowEntry.MaxKeyLength} bytes (length={key.Length})");
        }
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static ByteArrayComparer Instance { get; } = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
