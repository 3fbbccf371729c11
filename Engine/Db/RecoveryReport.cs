namespace SlateSharp;

/// <summary>What opening the database replayed from the WAL, and anything it had to skip.</summary>
public sealed class RecoveryReport
{
    internal RecoveryReport(ulong walFenceId, int walObjectsReplayed, long rowsReplayed, IReadOnlyList<SkippedWalObject> skipped)
    {
        WalFenceId = walFenceId;
        WalObjectsReplayed = walObjectsReplayed;
        RowsReplayed = rowsReplayed;
        SkippedWalObjects = skipped;
    }

    /// <summary>The WAL id of this writer's fence: its own WAL objects follow it.</summary>
    public ulong WalFenceId { get; }

    /// <summary>WAL objects holding writes that were replayed into the memtable (fences not counted).</summary>
    public int WalObjectsReplayed { get; }

    /// <summary>Rows replayed (rows already in L0 are not counted).</summary>
    public long RowsReplayed { get; }

    /// <summary>
    /// Corrupt WAL objects at the end of the log that were left out because <see cref="DbOptions.SkipCorruptWalTail"/>
    /// was set; empty otherwise (a corrupt object fails the open instead).
    /// </summary>
    public IReadOnlyList<SkippedWalObject> SkippedWalObjects { get; }
}
