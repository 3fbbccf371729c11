using SlateSharp.Format;
using SlateSharp.Iteration;

namespace SlateSharp;

/// <summary>
/// Puts, deletes and merges applied atomically by <see cref="Db.WriteAsync"/>: all become visible together, under one
/// sequence number, and are durable together. When a key appears more than once, the last put or delete wins and the
/// merges after it are applied to it in order (with the database's <see cref="DbOptions.MergeOperator"/>). The batch
/// copies keys and values, so callers may reuse their buffers.
/// </summary>
public sealed class WriteBatch
{
    private readonly List<Operation> _operations = [];

    /// <summary>Number of operations added.</summary>
    public int Count => _operations.Count;

    /// <summary>Puts among the operations.</summary>
    internal int Puts { get; private set; }

    /// <summary>Merges among the operations.</summary>
    internal int Merges { get; private set; }

    /// <summary>Key and value bytes of the operations.</summary>
    internal long Bytes { get; private set; }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>.</summary>
    public WriteBatch Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Add(key, value, RowKind.Put);
        Puts++;
        return this;
    }

    /// <summary>
    /// Merges <paramref name="operand"/> into <paramref name="key"/> (<see cref="Db.MergeAsync"/>); the write fails with
    /// <see cref="ErrorKind.Invalid"/> unless the database has a <see cref="DbOptions.MergeOperator"/>.
    /// </summary>
    public WriteBatch Merge(ReadOnlySpan<byte> key, ReadOnlySpan<byte> operand)
    {
        Add(key, operand, RowKind.Merge);
        Merges++;
        return this;
    }

    /// <summary>Removes <paramref name="key"/>.</summary>
    public WriteBatch Delete(ReadOnlySpan<byte> key)
    {
        ValidateKey(key);
        _operations.Add(new Operation(key.ToArray(), key.Length, RowKind.Delete));
        Bytes += key.Length;
        return this;
    }

    /// <summary>
    /// The operations as rows at <paramref name="sequence"/>, the last per key, in key order, written to the start of
    /// <paramref name="rows"/>; returns how many. <paramref name="rows"/> and <paramref name="order"/> (scratch) are the
    /// caller's, replaced by larger arrays when too small, so a writer that keeps them allocates nothing per batch.
    /// The rows alias this batch's arrays.
    /// </summary>
    internal int ToRows(ulong sequence, long? expireAt, ref RowEntry[] rows, ref int[] order)
    {
        var operations = _operations;
        if (rows.Length < operations.Count)
        {
            rows = new RowEntry[Math.Max(operations.Count, rows.Length * 2)];
        }

        if (order.Length < operations.Count)
        {
            order = new int[Math.Max(operations.Count, order.Length * 2)];
        }

        // Operation indexes by key, the latest operation of a key first; then the first of each key is kept. Keys added
        // in ascending order, each once, are in that order already.
        var sorted = order.AsSpan(0, operations.Count);
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = i;
        }

        if (!InStrictKeyOrder())
        {
            sorted.Sort(new LatestFirstByKey(operations));
        }

        var count = 0;
        foreach (var index in sorted)
        {
            var operation = operations[index];
            if (count > 0 && operation.Key.SequenceEqual(rows[count - 1].Key.Span))
            {
                continue;
            }

            var key = operation.Data.AsMemory(0, operation.KeyLength);
            var value = operation.Data.AsMemory(operation.KeyLength);
            rows[count++] = operation.Kind switch
            {
                RowKind.Delete => RowEntry.Delete(key, sequence),
                RowKind.Merge => new RowEntry(key, value, sequence, RowKind.Merge),
                _ => RowEntry.Put(key, value, sequence, expireAt),
            };
        }

        return count;
    }

    private bool InStrictKeyOrder()
    {
        for (var i = 1; i < _operations.Count; i++)
        {
            if (_operations[i - 1].Key.SequenceCompareTo(_operations[i].Key) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// This batch with every key that has a merge after another operation reduced to one operation (the batch's rows
    /// share one sequence number, so a key gets one row): merges onto the last put or delete before them become a put
    /// (full merge), several merges with nothing before them one merge (partial merge; <see cref="ErrorKind.Invalid"/>
    /// when the operator declines). Counts stay those of this batch. Calls the operator, so it runs outside any lock.
    /// </summary>
    internal WriteBatch CombineMerges(IMergeOperator mergeOperator)
    {
        var combined = new WriteBatch { Puts = Puts, Merges = Merges, Bytes = Bytes };
        var operations = _operations;
        var order = Enumerable.Range(0, operations.Count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            var byKey = operations[a].Key.SequenceCompareTo(operations[b].Key);
            return byKey != 0 ? byKey : a.CompareTo(b);
        });
        for (var start = 0; start < order.Length;)
        {
            var end = start + 1;
            while (end < order.Length && operations[order[end]].Key.SequenceEqual(operations[order[start]].Key))
            {
                end++;
            }

            var list = order[start..end].Select(i => operations[i]).ToList();
            start = end;
            var key = list[0].Key.ToArray();
            var last = list.Count - 1;
            if (list[last].Kind != RowKind.Merge || list.Count == 1)
            {
                combined._operations.Add(list[last]);
                continue;
            }

            var first = last;
            while (first > 0 && list[first - 1].Kind == RowKind.Merge)
            {
                first--;
            }

            var operands = list.GetRange(first, last - first + 1).Select(o => (ReadOnlyMemory<byte>)o.Data.AsMemory(o.KeyLength)).ToArray();
            ReadOnlyMemory<byte> result;
            RowKind kind;
            if (first > 0)
            {
                var below = list[first - 1];
                ReadOnlyMemory<byte>? existing = below.Kind == RowKind.Put ? below.Data.AsMemory(below.KeyLength) : (ReadOnlyMemory<byte>?)null;
                result = MergeResolver.FullMerge(mergeOperator, key, existing, operands);
                kind = RowKind.Put;
            }
            else if (operands.Length == 1)
            {
                combined._operations.Add(list[last]);
                continue;
            }
            else if (MergeResolver.TryPartialMerge(mergeOperator, key, operands, out result))
            {
                kind = RowKind.Merge;
            }
            else
            {
                throw Errors.Invalid(
                    $"a write batch holds {operands.Length} merges of key {Convert.ToHexString(key)} that the merge operator declined to combine; " +
                    "a batch gives a key one row, so write them in separate batches");
            }

            combined.Add(key, result.Span, kind);
        }

        return combined;
    }

    private void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, RowKind kind)
    {
        ValidateKey(key);
        if (value.Length > RowEntry.MaxValueLength)
        {
            throw Errors.Invalid($"value too large: at most {RowEntry.MaxValueLength} bytes (length={value.Length})");
        }

        // One copy into one array, key then value, which the WAL encoder and the memtable's arena read.
        var data = new byte[key.Length + value.Length];
        key.CopyTo(data);
        value.CopyTo(data.AsSpan(key.Length));
        _operations.Add(new Operation(data, key.Length, kind));
        Bytes += data.Length;
    }

    internal static void ValidateKey(ReadOnlySpan<byte> key)
    {
        if (key.Length is 0 or > RowEntry.MaxKeyLength)
        {
            throw Errors.Invalid($"key length must be 1 to {RowEntry.MaxKeyLength} bytes (length={key.Length})");
        }
    }

    /// <summary>Operation indexes by key, and of one key the later operation first.</summary>
    private readonly struct LatestFirstByKey(List<Operation> operations) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            var byKey = operations[a].Key.SequenceCompareTo(operations[b].Key);
            return byKey != 0 ? byKey : b.CompareTo(a);
        }
    }

    /// <summary>One put, delete or merge: the key is the first <paramref name="KeyLength"/> bytes of <paramref name="Data"/>, the value (or operand) the rest.</summary>
    private readonly record struct Operation(byte[] Data, int KeyLength, RowKind Kind)
    {
        public ReadOnlySpan<byte> Key => Data.AsSpan(0, KeyLength);
    }
}

