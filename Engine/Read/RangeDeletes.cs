using SlateSharp.Manifest;

namespace SlateSharp.Read;

/// <summary>
/// What range deletes hide from a read: a version of a key is hidden when a range delete covering the key has a higher
/// sequence, at or below the read's snapshot. The range deletes of a view are those of its memtables and those its
/// manifest carries (docs/design/range-deletes.md). Lookups are linear in the range deletes outstanding, which a
/// database keeps few (each costs a manifest entry until compaction drops it).
/// </summary>
internal static class RangeDeletes
{
    /// <summary>The highest sequence of a range delete covering <paramref name="key"/> at or below <paramref name="snapshot"/>; 0 when none.</summary>
    public static ulong Floor(IReadView view, ReadOnlySpan<byte> key, ulong snapshot)
    {
        var floor = Floor(view.Manifest.RangeTombstones, key, snapshot);
        for (var i = 0; i < view.MemtableCount; i++)
        {
            floor = Math.Max(floor, Floor(view.MemtableAt(i).RangeTombstones, key, snapshot));
        }

        return floor;
    }

    /// <summary>Like <see cref="Floor(IReadView, ReadOnlySpan{byte}, ulong)"/> over one list.</summary>
    public static ulong Floor(IReadOnlyList<RangeTombstone> tombstones, ReadOnlySpan<byte> key, ulong snapshot)
    {
        ulong floor = 0;
        for (var i = 0; i < tombstones.Count; i++)
        {
            var tombstone = tombstones[i];
            if (tombstone.Sequence <= snapshot && tombstone.Sequence > floor && tombstone.Covers(key))
            {
                floor = tombstone.Sequence;
            }
        }

        return floor;
    }

    /// <summary>
    /// The range deletes of <paramref name="view"/> a scan of [<paramref name="start"/>, <paramref name="end"/>) at
    /// <paramref name="snapshot"/> must apply (an empty bound is unbounded), so that each row checks only those.
    /// </summary>
    public static IReadOnlyList<RangeTombstone> Overlapping(IReadView view, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, ulong snapshot)
    {
        List<RangeTombstone>? found = null;
        Collect(view.Manifest.RangeTombstones, start, end, snapshot, ref found);
        for (var i = 0; i < view.MemtableCount; i++)
        {
            Collect(view.MemtableAt(i).RangeTombstones, start, end, snapshot, ref found);
        }

        return found ?? (IReadOnlyList<RangeTombstone>)[];
    }

    private static void Collect(IReadOnlyList<RangeTombstone> tombstones, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, ulong snapshot, ref List<RangeTombstone>? found)
    {
        foreach (var tombstone in tombstones)
        {
            if (tombstone.Sequence <= snapshot && (start.IsEmpty || start.SequenceCompareTo(tombstone.End) < 0) && (end.IsEmpty || end.SequenceCompareTo(tombstone.Start) > 0))
            {
                (found ??= []).Add(tombstone);
            }
        }
    }
}
