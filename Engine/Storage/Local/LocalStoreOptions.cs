using Microsoft.Extensions.Logging;

namespace SlateSharp.Storage.Local;

/// <summary>Options for <see cref="LocalFileSystemObjectStore"/>.</summary>
public sealed class LocalStoreOptions
{
    /// <summary>Open for reading only: no probe, no writes; every put or delete fails with <see cref="ErrorKind.Invalid"/>.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Open without a commit strategy, as a reader does (<see cref="StoreAccess.OverwritesOnly"/>): no probe, no markers,
    /// nothing written at open; plain overwrites and deletes work (a temporary file renamed over the name), while
    /// create-if-absent and if-version-matches puts fail with <see cref="ErrorKind.Invalid"/>. The directory must exist.
    /// </summary>
    internal bool OverwritesOnly { get; init; }

    /// <summary>
    /// Use this strategy instead of the best one the probe finds; opening fails when the probe finds it unavailable, or
    /// when the directory is already written by stores of an incompatible strategy (see <see cref="CommitStrategy"/>).
    /// </summary>
    public CommitStrategy? ForceCommitStrategy { get; init; }

    /// <summary>
    /// Whether <see cref="CommitStrategy.LockedRename"/> may be chosen when neither atomic primitive works (it is only
    /// ever offered on local disks and FUSE mounts). It is safe only while every writer uses the same mount; turn it
    /// off to refuse such directories instead.
    /// </summary>
    public bool AllowLockedRenameFallback { get; init; } = true;

    /// <summary>Temporary files older than this, left by a crashed writer, are removed when the store opens for writing.</summary>
    public TimeSpan StaleTempFileAge { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The clock (for stale temporary files and modification times).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where the store logs the chosen strategy and cleanups; nothing is logged by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Read handles kept open (<see cref="ReadHandleCache"/>) on kernel-local filesystems; 0 opens a file per read.
    /// Each is one file descriptor, and may keep a file deleted by another process allocated until it is dropped.
    /// </summary>
    internal int ReadHandleCacheSize { get; init; } = 256;

    internal IFileSystemCalls Calls { get; init; } = PosixFileSystemCalls.Instance;

    internal Func<CommitStep, ObjectPath, ValueTask>? StepHook { get; init; }
}
