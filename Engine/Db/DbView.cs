using System.Collections.Immutable;
using SlateSharp.Manifest;
using SlateSharp.Memtable;
using SlateSharp.Read;
using SlateSharp.Sst;

namespace SlateSharp;

/// <summary>
/// What a read sees, swapped atomically as a whole: the active memtable, the frozen ones (newest first) and the
/// SSTs of a stored manifest (<paramref name="ManifestId"/>). A flush replaces a frozen memtable with its L0 SST in
/// one swap, so a reader finds every row in one place or the other, never in neither. The manifest only moves to a
/// higher id: every later version holds every earlier flush (or the compacted run that replaced it).
/// </summary>
/// <remarks>
/// A view keeps its memtables' memory and its manifest's SSTs while it is current or read (<see cref="TryEnter"/>):
/// once installed (<see cref="Hold"/>) it holds each memtable and pins the SSTs; when it has been replaced
/// (<see cref="Retire"/>) and its last read exits, it lets them go, and a memtable no view holds gives its rows' chunks
/// back to the pool. So a get on the view pays one compare-and-swap to enter and one decrement to exit, and takes no
/// SST pin of its own. A view made by <c>with</c> starts afresh: not entered, not holding.
/// </remarks>
internal sealed record DbView(MemoryTable Active, ImmutableList<ImmutableMemtable> Immutables, DbManifest Manifest, ulong ManifestId) : IReadView
{
    // One for being current (until Retire) plus one per read in progress; 0 is final: the holds are released.
    private int _entries = 1;
    private int _holding;
    private int _retired;
    private SstPins.ReadPin _ssts;

    private DbView(DbView original)
    {
        Active = original.Active;
        Immutables = original.Immutables;
        Manifest = original.Manifest;
        ManifestId = original.ManifestId;

        // Set here: a record's copy constructor runs no field initializers.
        _entries = 1;
        _holding = 0;
        _retired = 0;
        _ssts = default;
    }

    public IEnumerable<MemoryTable> Memtables => Immutables.Select(m => m.Table).Prepend(Active);

    public int MemtableCount => Immutables.Count + 1;

    public MemoryTable MemtableAt(int index) => index == 0 ? Active : Immutables[index - 1].Table;

    /// <summary>A read that entered this view needs no pin of its own: the view pins its manifest's SSTs until its last read exits.</summary>
    public bool PinsItsSsts => true;

    /// <summary>
    /// Holds every memtable the view lists, and pins its manifest's SSTs (<paramref name="pins"/>), until the view has
    /// been replaced and its last read exits; once, before the view is published (under the write lock).
    /// </summary>
    public void Hold(SstPins pins)
    {
        if (Interlocked.Exchange(ref _holding, 1) != 0)
        {
            throw new InvalidOperationException("the view already holds its memtables");
        }

        _ssts = pins.AcquireRead(Manifest);
        for (var i = 0; i < MemtableCount; i++)
        {
            MemtableAt(i).AddHold();
        }
    }

    /// <inheritdoc/>
    public bool TryEnter()
    {
        var entries = Volatile.Read(ref _entries);
        while (entries > 0)
        {
            var seen = Interlocked.CompareExchange(ref _entries, entries + 1, entries);
            if (seen == entries)
            {
                return true;
            }

            entries = seen;
        }

        return false;
    }

    /// <inheritdoc/>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _entries) == 0 && Volatile.Read(ref _holding) != 0)
        {
            for (var i = 0; i < MemtableCount; i++)
            {
                MemtableAt(i).ReleaseHold();
            }

            _ssts.Dispose();
        }
    }

    /// <summary>
    /// The view was replaced (after the new one is published) or the database closed: the reads still on it end it.
    /// Later calls do nothing.
    /// </summary>
    public void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0)
        {
            Exit();
        }
    }
}
