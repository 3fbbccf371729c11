namespace SlateSharp;

/// <summary>Why a database stopped accepting calls (only set with <see cref="ErrorKind.Closed"/>).</summary>
public enum CloseReason
{
    /// <summary>The owner closed it.</summary>
    Clean,

    /// <summary>A newer writer or compactor claimed the database; this instance can no longer change anything.</summary>
    Fenced,

    /// <summary>A background task failed; the inner exception says why.</summary>
    Failed,
}
