using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// What a read sees of one key whose versions may include merge operands: <see cref="Resolve"/> is the one rule gets
/// (<c>ReadPath</c>) and scans (<see cref="MergingIterator"/>) share. The static helpers call the operator under the
/// error rule of <see cref="IMergeOperator"/>: an operator that throws, or none configured where operands are stored,
/// is an <see cref="ErrorKind.Invalid"/> error naming the key.
/// </summary>
internal sealed class MergeResolver(IMergeOperator? mergeOperator, TimeProvider time)
{
    public IMergeOperator? Operator => mergeOperator;

    /// <summary>Whether <paramref name="row"/> is a put that has not expired at <paramref name="nowUnixMilliseconds"/>.</summary>
    public static bool IsLivePut(in RowEntry row, long nowUnixMilliseconds) =>
        row.Kind == RowKind.Put && (row.ExpireAt is not { } expireAt || expireAt > nowUnixMilliseconds);

    /// <summary>
    /// The value a read sees, given the versions of one key at or below its snapshot, newest first (the list may stop
    /// at the first put or tombstone, or go on; nothing below it matters), or null when the key has none. Operands
    /// above the first put or tombstone are merged onto it, oldest first; an expired put counts as a tombstone and the
    /// end of the list as no value. Operands never expire (merges take no TTL).
    /// </summary>
    public ReadOnlyMemory<byte>? Resolve(ReadOnlySpan<RowEntry> versions)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var operands = 0;
        while (operands < versions.Length && versions[operands].Kind == RowKind.Merge)
        {
            operands++;
        }

        ReadOnlyMemory<byte>? existing = operands < versions.Length && IsLivePut(versions[operands], now) ? versions[operands].Value : (ReadOnlyMemory<byte>?)null;
        if (operands == 0)
        {
            return existing;
        }

        var oldestFirst = new ReadOnlyMemory<byte>[operands];
        for (var i = 0; i < operands; i++)
        {
            oldestFirst[i] = versions[operands - 1 - i].Value;
        }

        return FullMerge(mergeOperator, versions[0].Key.Span, existing, oldestFirst);
    }

    /// <summary>The operator's full merge; throws <see cref="ErrorKind.Invalid"/> naming the key when there is no operator or it throws.</summary>
    public static ReadOnlyMemory<byte> FullMerge(IMergeOperator? mergeOperator, ReadOnlySpan<byte> key, ReadOnlyMemory<byte>? existing, ReadOnlySpan<ReadOnlyMemory<byte>> operands)
    {
        if (mergeOperator is null)
        {
            throw NoOperator(key);
        }

        try
        {
            return mergeOperator.FullMerge(key, existing, operands);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Failed(key, "FullMerge", e);
        }
    }

    /// <summary>The operator's partial merge; throws like <see cref="FullMerge"/>.</summary>
    public static bool TryPartialMerge(IMergeOperator mergeOperator, ReadOnlySpan<byte> key, ReadOnlySpan<ReadOnlyMemory<byte>> operands, out ReadOnlyMemory<byte> merged)
    {
        try
        {
            return mergeOperator.TryPartialMerge(key, operands, out merged);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Failed(key, "TryPartialMerge", e);
        }
    }

    public static SlateSharpException NoOperator(ReadOnlySpan<byte> key) =>
        Errors.Invalid($"key {Convert.ToHexString(key)} holds merge operands but no merge operator is configured (set DbOptions.MergeOperator or DbReaderOptions.MergeOperator)");

    private static SlateSharpException Failed(ReadOnlySpan<byte> key, string method, Exception e) =>
        Errors.Invalid($"the merge operator's {method} threw for key {Convert.ToHexString(key)} ({e.GetType().Name}: {e.Message})", e);
}
