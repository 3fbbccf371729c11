using SlateSharp.Format;

namespace SlateSharp.Iteration;

/// <summary>
/// The one place that decides what a read sees of one key: every scan, forwards or backwards, hands it the key's
/// versions at or below its snapshot, newest first, and emits what it returns. A merge operator plugs in here (it will
/// fold operands down to the newest put or tombstone); the scans around it need not change.
/// </summary>
internal static class VisibleVersion
{
    /// <summary>
    /// The row to emit for one key given its versions at or below the snapshot, newest first (at least one), or false
    /// for none: today the newest version when it is a put; a tombstone, or a merge operand (no operator yet), hides
    /// the key. Expiry is not decided here: it depends on the reader's clock (<c>ReadPath.IsLive</c>).
    /// </summary>
    public static bool TryResolve(ReadOnlySpan<RowEntry> newestFirst, out RowEntry row)
    {
        row = newestFirst[0];
        return row.Kind == RowKind.Put;
    }
}
