using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// The one place that decides what a scan sees of one key: every scan, forwards or backwards, hands it the key's
/// versions at or below its snapshot, newest first, and emits what it returns. Gets apply the same rules
/// (<c>ReadPath</c>): one <see cref="MergeResolver"/>, and versions below a covering range delete hidden.
/// </summary>
internal static class VisibleVersion
{
    /// <summary>
    /// The row to emit for one key given its versions at or below the snapshot, newest first (at least one), or false
    /// for none. Versions with a sequence below <paramref name="floor"/> (the newest range delete covering the key at
    /// or below the snapshot; 0 for none) are hidden, so the range delete is where the key's history ends. The newest
    /// remaining version decides: a put is emitted, a tombstone hides the key, a merge operand is merged with
    /// <paramref name="merges"/> onto the versions below it (a put at the operand's sequence, or none). Expiry of a
    /// put is not decided here: it depends on the reader's clock (<c>ReadPath.IsLive</c>).
    /// </summary>
    public static bool TryResolve(ReadOnlySpan<RowEntry> newestFirst, MergeResolver merges, ulong floor, out RowEntry row)
    {
        row = newestFirst[0];
        if (row.Sequence < floor)
        {
            return false;
        }

        if (row.Kind != RowKind.Merge)
        {
            return row.Kind == RowKind.Put;
        }

        // The resolver reads the end of the list as "no value": exactly what a range delete below the operands is.
        var above = 1;
        while (above < newestFirst.Length && newestFirst[above].Sequence > floor)
        {
            above++;
        }

        if (merges.Resolve(newestFirst[..above]) is not { } value)
        {
            return false;
        }

        row = RowEntry.Put(row.Key, value, row.Sequence);
        return true;
    }
}
