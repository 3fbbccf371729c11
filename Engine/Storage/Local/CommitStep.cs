namespace SlateSharp.Storage.Local;

/// <summary>Points in a local put at which tests can pause one party to interleave it with another.</summary>
internal enum CommitStep
{
    /// <summary>The temporary file is written and fsynced; nothing is published yet.</summary>
    TempWritten,

    /// <summary>The directory lock is held (locked strategies only).</summary>
    LockAcquired,

    /// <summary>The condition was checked under the lock (locked strategies only).</summary>
    ConditionChecked,

    /// <summary>The object is visible under its final name (or the put lost).</summary>
    Published,
}
