using SlateSharp.Format;

namespace SlateSharp;

/// <summary>
/// Puts and deletes applied atomically by <see cref="Db.WriteAsync"/>: all become visible together, under one
/// sequence number, and are durable together. When a key appears more than once, the last operation wins. The
/// batch copies keys and values, so callers may reuse their buffers.
/// </summary>
public sealed class WriteBatch
{
    private readonly List<Operation> _operations = [];

    /// <summary>Number of operations added.</summary>
    public int Count => _operations.Count;

    /// <summary>Puts among the operations.</summary>
    internal int Puts { get; private set; }

    /// <summary>Key and value bytes of the operations.</summary>
    internal long Bytes { get; private set; }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>.</summary>
    public WriteBatch Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        ValidateKey(key);
        if (value.Length > RowEntry.MaxValueLength)
        {
            throw Errors.Invalid($"value too large: at most {RowEntry.MaxValueLength} bytes (length={value.Length})");
        }

        // One copy into one array, key then value: the memtable keeps it as it is.
        var data = new byte[key.Length + value.Length];
        key.CopyTo(data);
        value.CopyTo(data.AsSpan(key.Length));
        _operations.Add(new Operation(data, key.Length, IsDelete: false));
        Puts++;
        Bytes += data.Length;
        return this;
    }

    /// <summary>Removes <paramref name="key"/>.</summary>
    public WriteBatch Delete(ReadOnlySpan<byte> key)
    {
        ValidateKey(key);
        _operations.Add(new Operation(key.ToArray(), key.Length, IsDelete: true));
        Bytes += key.Length;
        return this;
    }

    /// <summary>The operations as rows at <paramref name="sequence"/>, the last per key, in key order.</summary>
    internal RowEntry[] ToRows(ulong sequence, long? expireAt = null)
    {
        // Sort operation indexes by key, the latest operation of a key first; then keep the first of each key.
        var order = new int[_operations.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var operations = _operations;
        Array.Sort(order, (a, b) =>
        {
            var byKey = operations[a].Key.SequenceCompareTo(operations[b].Key);
            return byKey != 0 ? byKey : b.CompareTo(a);
        });
        var rows = new RowEntry[order.Length];
        var count = 0;
        foreach (var index in order)
        {
            var operation = operations[index];
            if (count > 0 && operation.Key.SequenceEqual(rows[count - 1].Key.Span))
            {
                continue;
            }

            var key = operation.Data.AsMemory(0, operation.KeyLength);
            rows[count++] = operation.IsDelete ? RowEntry.Delete(key, sequence) : RowEntry.Put(key, operation.Data.AsMemory(operation.KeyLength), sequence, expireAt);
        }

        if (count < rows.Length)
        {
            Array.Resize(ref rows, count);
        }

        return rows;
    }

    internal static void ValidateKey(ReadOnlySpan<byte> key)
    {
        if (key.Length is 0 or > RowEntry.MaxKeyLength)
        {
            throw Errors.Invalid($"key length must be 1 to {RowEntry.MaxKeyLength} bytes (length={key.Length})");
        }
    }

    /// <summary>One put or delete: the key is the first <paramref name="KeyLength"/> bytes of <paramref name="Data"/>, the value the rest.</summary>
    private readonly record struct Operation(byte[] Data, int KeyLength, bool IsDelete)
    {
        public ReadOnlySpan<byte> Key => Data.AsSpan(0, KeyLength);
    }
}
