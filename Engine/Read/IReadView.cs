using SlateSharp.Manifest;
using SlateSharp.Memtable;

namespace SlateSharp.Read;

/// <summary>
/// What one read sees: memtables newest first, then the SSTs of one manifest (L0 newest first, then the sorted runs
/// in list order, newest first). A view is immutable as a whole; its owner swaps in a new one, so a read that took it
/// finds every row in one place or another, never in neither.
/// </summary>
internal interface IReadView
{
    /// <summary>The memtables, newest first. They may still take rows newer than any snapshot read through them.</summary>
    IEnumerable<MemoryTable> Memtables { get; }

    /// <summary>How many memtables <see cref="Memtables"/> holds (a get walks them by index, without an enumerator).</summary>
    int MemtableCount { get; }

    /// <summary>Memtable <paramref name="index"/> of <see cref="Memtables"/>, newest first.</summary>
    MemoryTable MemtableAt(int index);

    DbManifest Manifest { get; }

    /// <summary>
    /// Marks a read in progress on this view, so the memtables it lists keep their memory until <see cref="Exit"/>;
    /// false when the view was replaced and every read on it has ended (read the current one instead). A view whose
    /// memtables' memory is never reused (a reader's) always enters.
    /// </summary>
    bool TryEnter() => true;

    /// <summary>
    /// Whether the view itself pins its manifest's SSTs while a read is on it, so a read that entered it takes no pin
    /// of its own; false: each read pins them (<c>SstPins.AcquireRead</c>).
    /// </summary>
    bool PinsItsSsts => false;

    /// <summary>Ends a read <see cref="TryEnter"/> began; once per successful enter.</summary>
    void Exit()
    {
    }
}
