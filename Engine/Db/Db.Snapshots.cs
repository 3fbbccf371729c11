namespace SlateSharp;

/// <summary>Snapshots (<see cref="DbSnapshot"/>): a view and a sequence number held together.</summary>
public sealed partial class Db
{
    private int _openSnapshots;

    /// <summary>Snapshots taken and not yet disposed.</summary>
    internal int OpenSnapshots => Volatile.Read(ref _openSnapshots);

    /// <summary>
    /// Takes a snapshot: every write acknowledged before the call is in it, none made after. Cheap (no I/O); dispose
    /// it when done (<c>await using var snap = await db.GetSnapshotAsync();</c>).
    /// </summary>
    public ValueTask<DbSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_writeLock)
        {
            ThrowIfClosed();

            // Under the write lock: no write is half applied, and the view and the sequence belong together.
            // Entered for the snapshot's life: the view keeps its memtables' memory and its manifest's SSTs pinned
            // until the snapshot is disposed.
            var view = _view;
            if (!view.TryEnter())
            {
                throw new InvalidOperationException("the current view could not be entered");
            }

            Interlocked.Increment(ref _openSnapshots);
            return ValueTask.FromResult(new DbSnapshot(this, Reads, view, _visibleSequence));
        }
    }

    internal void ReleaseSnapshot(Read.IReadView view)
    {
        view.Exit();
        Interlocked.Decrement(ref _openSnapshots);
    }
}
