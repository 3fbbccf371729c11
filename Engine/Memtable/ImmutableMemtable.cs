using SlateSharp.Wal;

namespace SlateSharp.Memtable;

/// <summary>
/// A frozen memtable waiting for its L0 SST. It stays readable until the flush is recorded in the manifest.
/// Its rows are in the WAL objects up to the one <see cref="LastWalIdAsync"/> returns, and in no later one (a
/// freeze seals the WAL segment), so once its SST is recorded the manifest's <c>replay_after_wal_id</c> can move there.
/// </summary>
internal sealed class ImmutableMemtable(MemoryTable table, WalSegment? lastSegment, ulong fixedLastWalId)
{
    public MemoryTable Table { get; } = table;

    /// <summary>Completes when the memtable's SST is recorded in the manifest (or faults when the flush failed).</summary>
    public TaskCompletionSource Flushed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The id of the last WAL object holding this memtable's rows, once stored: the last appended segment's id, or for
    /// a memtable of replayed rows only, the id recorded at replay.
    /// </summary>
    public Task<ulong> LastWalIdAsync() => lastSegment?.Durable.Task ?? Task.FromResult(fixedLastWalId);
}
