using System.Collections.Immutable;
using SlateSharp.Manifest;
using SlateSharp.Memtable;
using SlateSharp.Read;

namespace SlateSharp;

/// <summary>
/// What a read sees, swapped atomically as a whole: the active memtable, the frozen ones (newest first) and the
/// SSTs of a stored manifest (<paramref name="ManifestId"/>). A flush replaces a frozen memtable with its L0 SST in
/// one swap, so a reader finds every row in one place or the other, never in neither. The manifest only moves to a
/// higher id: every later version holds every earlier flush (or the compacted run that replaced it).
/// </summary>
internal sealed record DbView(MemoryTable Active, ImmutableList<ImmutableMemtable> Immutables, DbManifest Manifest, ulong ManifestId) : IReadView
{
    public IEnumerable<MemoryTable> Memtables => Immutables.Select(m => m.Table).Prepend(Active);

    public int MemtableCount => Immutables.Count + 1;

    public MemoryTable MemtableAt(int index) => index == 0 ? Active : Immutables[index - 1].Table;
}
