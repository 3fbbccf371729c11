using SlateSharp.Manifest;
using SlateSharp.Memtable;
using SlateSharp.Read;

namespace SlateSharp.Reader;

/// <summary>
/// What a <see cref="DbReader"/> serves, swapped as a whole: one manifest version, and (when following the latest
/// state) the rows of the WAL objects after its <c>replay_after_wal_id</c> that are not in its L0, in one memtable.
/// Reads use <see cref="LastSequence"/> as their snapshot, so rows the follower adds to the memtable for the next view
/// stay invisible through this one.
/// </summary>
/// <param name="Table">The replayed WAL rows; null for a checkpoint's frozen view.</param>
/// <param name="ManifestId">The manifest version read.</param>
/// <param name="Manifest">That version.</param>
/// <param name="LastSequence">The highest sequence number this view shows: nothing above it was committed when it was made.</param>
internal sealed record ReaderView(MemoryTable? Table, ulong ManifestId, DbManifest Manifest, ulong LastSequence) : IReadView
{
    public IEnumerable<MemoryTable> Memtables => Table is null ? [] : [Table];

    public int MemtableCount => Table is null ? 0 : 1;

    public MemoryTable MemtableAt(int index) => index == 0 && Table is not null ? Table : throw new ArgumentOutOfRangeException(nameof(index));
}
