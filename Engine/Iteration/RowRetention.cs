using System.Runtime.CompilerServices;
using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// Which versions a rewrite (a memtable flush or a compaction) keeps, fed the raw merge in internal order one row at a
/// time (<see cref="Add"/>, then <see cref="Finish"/>), its output taken with <see cref="TryTake"/> in internal order.
/// A version is kept when some read point sees it: the latest state, and every retained snapshot sequence (a version
/// is what snapshot s sees when it is the newest at or below s). Expired puts become tombstones (they keep shadowing
/// older versions). A tombstone is dropped only in the bottom run, and only when no retained snapshot is older than it
/// (then nothing older is kept either, so dropping it resurrects nothing). Not thread-safe; one instance per stream.
/// </summary>
/// <remarks>
/// Merge operands: a read point that sees an operand reads every version below it down to the first put or tombstone
/// (its base), so those are kept too. With a merge operator, operands no retained snapshot separates (a segment) are
/// folded: into their base when it lies in the same segment (the result is a put at the newest operand's sequence,
/// with no expiry, and the base goes), into "no value" when the rewrite is at the bottom and nothing lies below them,
/// and otherwise combined by partial merge into one operand (or kept as they are when the operator declines). A put
/// that has not expired yet but will is not a base to fold into: reads merge onto it until it expires and onto
/// nothing after, which no single stored value could express. Without an operator, or when it throws, operands are
/// kept as they are: correct, only unfolded. See docs/design/compaction.md, "Merge operands".
/// </remarks>
/// <param name="snapshots">Retained snapshot sequences, ascending.</param>
/// <param name="bottom">The output is the oldest data of the database: nothing older lies below it.</param>
/// <param name="nowUnixMilliseconds">Rows expiring at or before this are expired.</param>
/// <param name="mergeOperator">Folds merge operands; null keeps them.</param>
/// <param name="rangeDeletes">
/// Range deletes to apply: a version they cover is one more version of its key, a tombstone at the range delete's
/// sequence, which hides it from every read point above that sequence and is the base of operands above it
/// (docs/design/range-deletes.md). The range deletes themselves are not written; they stay in the manifest.
/// </param>
internal sealed class RowRetention(
    IReadOnlyList<ulong> snapshots, bool bottom, long nowUnixMilliseconds, IMergeOperator? mergeOperator = null, IReadOnlyList<Manifest.RangeTombstone>? rangeDeletes = null)
{
    private readonly Queue<RowEntry> _output = new();

    // Operands of the current key not yet written, newest first, that no retained snapshot separates (operator only).
    private readonly List<RowEntry> _operands = [];
    private ReadOnlyMemory<byte>? _key;
    private ulong _newerSequence;
    private bool _chain;
    private bool _dropRest;

    /// <summary>Keeps only the newest version of each key, tombstones included (a memtable flush into L0), and what merge operands need.</summary>
    public static RowRetention NewestOnly(long nowUnixMilliseconds, IMergeOperator? mergeOperator = null, IReadOnlyList<Manifest.RangeTombstone>? rangeDeletes = null) =>
        new([], bottom: false, nowUnixMilliseconds, mergeOperator, rangeDeletes);

    /// <summary>Takes the next row to write, in internal order.</summary>
    public bool TryTake(out RowEntry row) => _output.TryDequeue(out row);

    /// <summary>Feeds the next row of the raw merge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(in RowEntry row)
    {
        var newest = _key is not { } key || !key.Span.SequenceEqual(row.Key.Span);
        if (newest)
        {
            EndOperands(atEnd: true);
            _key = row.Key;
            _chain = false;
            _dropRest = false;
            _newerSequence = ulong.MaxValue;
        }

        var newerSequence = _newerSequence;
        _newerSequence = row.Sequence;
        if (_dropRest)
        {
            return;
        }

        var rangeDelete = LowestRangeDeleteAbove(row);
        if (rangeDelete < newerSequence)
        {
            // A range delete lies between this version and the newer one: a tombstone there, the base of the operands
            // above (every read point that sees them sees it too), so this version is older than a tombstone.
            if (_operands.Count > 0 && !TryFold(null))
            {
                EndOperands(atEnd: false);
            }

            _chain = false;
            newerSequence = rangeDelete;
        }

        // Seen by the latest state (the newest version, not range deleted) or by a snapshot s with row.Sequence <= s <
        // the next newer version; needed when an operand above it is kept.
        var seen = newerSequence == ulong.MaxValue || SnapshotBetween(row.Sequence, newerSequence);
        if (!seen && !_chain)
        {
            return;
        }

        if (seen)
        {
            // A snapshot sees this row: it separates it from the operands above, which fold no further.
            EndOperands(atEnd: false);
        }

        var kept = row.ExpireAt is { } expireAt && expireAt <= nowUnixMilliseconds && row.Kind == RowKind.Put
            ? RowEntry.Delete(row.Key, row.Sequence)
            : row;
        if (kept.Kind == RowKind.Merge)
        {
            _chain = true;
            if (mergeOperator is null)
            {
                _output.Enqueue(kept);
            }
            else
            {
                _operands.Add(kept);
            }

            return;
        }

        _chain = false;
        if (_operands.Count > 0)
        {
            if ((kept.Kind == RowKind.Delete || kept.ExpireAt is null) && TryFold(kept.Kind == RowKind.Put ? kept.Value : (ReadOnlyMemory<byte>?)null))
            {
                // The base is folded in; what lies below it is seen only by snapshots older than it.
                _dropRest = kept.Kind == RowKind.Delete && bottom && !AnySnapshotBelow(kept.Sequence);
                return;
            }

            EndOperands(atEnd: false);
        }

        if (kept.Kind == RowKind.Delete && bottom && !AnySnapshotBelow(kept.Sequence))
        {
            _dropRest = true;
            return;
        }

        _output.Enqueue(kept);
    }

    /// <summary>Ends the stream: writes out what is still held.</summary>
    public void Finish() => EndOperands(atEnd: true);

    /// <summary>
    /// Writes the held operands: folded into no value at the end of a key at the bottom, else partially merged (or
    /// as they are).
    /// </summary>
    private void EndOperands(bool atEnd)
    {
        if (_operands.Count == 0)
        {
            return;
        }

        if (atEnd && bottom && TryFold(null))
        {
            return;
        }

        if (_operands.Count >= 2 && TryPartialMerge(out var merged))
        {
            _output.Enqueue(new RowEntry(_operands[0].Key, merged, _operands[0].Sequence, RowKind.Merge));
        }
        else
        {
            foreach (var operand in _operands)
            {
                _output.Enqueue(operand);
            }
        }

        _operands.Clear();
    }

    /// <summary>Full-merges the held operands onto <paramref name="existing"/> into one put; false (nothing changed) when the operator fails.</summary>
    private bool TryFold(ReadOnlyMemory<byte>? existing)
    {
        var newest = _operands[0];
        try
        {
            var value = MergeResolver.FullMerge(mergeOperator, newest.Key.Span, existing, OldestFirst());
            if (value.Length > RowEntry.MaxValueLength)
            {
                return false;
            }

            _output.Enqueue(RowEntry.Put(newest.Key, value, newest.Sequence));
            _operands.Clear();
            return true;
        }
        catch (SlateSharpException)
        {
            // The operator threw: keep the rows, so that a read reports the error with the key.
            return false;
        }
    }

    private bool TryPartialMerge(out ReadOnlyMemory<byte> merged)
    {
        try
        {
            return MergeResolver.TryPartialMerge(mergeOperator!, _operands[0].Key.Span, OldestFirst(), out merged) && merged.Length <= RowEntry.MaxValueLength;
        }
        catch (SlateSharpException)
        {
            merged = default;
            return false;
        }
    }

    private ReadOnlyMemory<byte>[] OldestFirst()
    {
        var operands = new ReadOnlyMemory<byte>[_operands.Count];
        for (var i = 0; i < operands.Length; i++)
        {
            operands[i] = _operands[^(i + 1)].Value;
        }

        return operands;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ulong LowestRangeDeleteAbove(in RowEntry row) =>
        rangeDeletes is null ? ulong.MaxValue : Manifest.RangeTombstone.LowestCoveringAbove(rangeDeletes, row.Key.Span, row.Sequence);

    private bool SnapshotBetween(ulong low, ulong highExclusive)
    {
        foreach (var snapshot in snapshots)
        {
            if (snapshot >= low && snapshot < highExclusive)
            {
                return true;
            }
        }

        return false;
    }

    private bool AnySnapshotBelow(ulong sequence) => snapshots.Count > 0 && snapshots[0] < sequence;
}
