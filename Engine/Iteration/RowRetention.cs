using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// Which versions a rewrite (a memtable flush or a compaction) keeps, fed the raw merge in internal order one row at a
/// time. A version is kept when some read point sees it: the latest state, and every retained snapshot sequence (a
/// version is what snapshot s sees when it is the newest at or below s). Expired puts become tombstones (they keep
/// shadowing older versions). A tombstone is dropped only in the bottom run, and only when no retained snapshot is
/// older than it (then nothing older is kept either, so dropping it resurrects nothing). A merge operand keeps every
/// older version of its key (there is no merge operator to fold them yet). Not thread-safe; one instance per stream.
/// </summary>
/// <param name="snapshots">Retained snapshot sequences, ascending.</param>
/// <param name="bottom">The output is the oldest data of the database: nothing older lies below it.</param>
/// <param name="nowUnixMilliseconds">Rows expiring at or before this are expired.</param>
/// <param name="rangeDeletes">
/// Range deletes to apply: a version they cover is one more version of its key, at the range delete's sequence, which
/// hides it from every read point above that sequence (docs/design/range-deletes.md). The range deletes themselves are
/// not written; they stay in the manifest.
/// </param>
internal sealed class RowRetention(IReadOnlyList<ulong> snapshots, bool bottom, long nowUnixMilliseconds, IReadOnlyList<Manifest.RangeTombstone>? rangeDeletes = null)
{
    private ReadOnlyMemory<byte>? _key;
    private ulong _newerSequence;
    private bool _keepRest;
    private bool _dropRest;

    /// <summary>Keeps only the newest version of each key, tombstones included (a memtable flush into L0).</summary>
    public static RowRetention NewestOnly(long nowUnixMilliseconds) => new([], bottom: false, nowUnixMilliseconds);

    /// <summary>The row to write for <paramref name="row"/>, or null to drop it.</summary>
    public RowEntry? Apply(in RowEntry row)
    {
        var newest = _key is not { } key || !key.Span.SequenceEqual(row.Key.Span);
        if (newest)
        {
            _key = row.Key;
            _keepRest = false;
            _dropRest = false;
            _newerSequence = ulong.MaxValue;
        }

        var newerSequence = _newerSequence;
        _newerSequence = row.Sequence;
        if (_dropRest)
        {
            return null;
        }

        if (_keepRest)
        {
            return row;
        }

        // Seen by the latest state (the newest version, not range deleted) or by a snapshot s with row.Sequence <= s <
        // the next newer version, a covering range delete counting as one.
        var upper = Math.Min(newerSequence, LowestRangeDeleteAbove(row));
        var seen = upper == ulong.MaxValue || SnapshotBetween(row.Sequence, upper);
        if (!seen)
        {
            return null;
        }

        var kept = row.ExpireAt is { } expireAt && expireAt <= nowUnixMilliseconds && row.Kind == RowKind.Put
            ? RowEntry.Delete(row.Key, row.Sequence)
            : row;
        if (kept.Kind == RowKind.Merge)
        {
            _keepRest = true;
            return kept;
        }

        if (kept.Kind == RowKind.Delete && bottom && !AnySnapshotBelow(kept.Sequence))
        {
            _dropRest = true;
            return null;
        }

        return kept;
    }

    /// <summary>The lowest sequence above the row's of a range delete covering its key; <see cref="ulong.MaxValue"/> when none.</summary>
    private ulong LowestRangeDeleteAbove(in RowEntry row)
    {
        var lowest = ulong.MaxValue;
        if (rangeDeletes is null)
        {
            return lowest;
        }

        for (var i = 0; i < rangeDeletes.Count; i++)
        {
            var tombstone = rangeDeletes[i];
            if (tombstone.Sequence > row.Sequence && tombstone.Sequence < lowest && tombstone.Covers(row.Key.Span))
            {
                lowest = tombstone.Sequence;
            }
        }

        return lowest;
    }

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
