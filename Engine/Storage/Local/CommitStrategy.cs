namespace SlateSharp.Storage.Local;

/// <summary>
/// How the local store publishes a finished temporary file under its final name without replacing an existing one
/// (create-if-absent). Chosen at open by probing the directory; see docs/design/object-store.md.
/// </summary>
public enum CommitStrategy
{
    /// <summary><c>link(temp, name)</c>: atomic everywhere it works, fails with EEXIST if the name exists.</summary>
    HardLink,

    /// <summary><c>renameat2(temp, name, RENAME_NOREPLACE)</c>: atomic, fails with EEXIST if the name exists.</summary>
    RenameNoReplace,

    /// <summary>
    /// The fallback for FUSE mounts with neither (s3fs, gcsfuse): an exclusive <c>flock</c> on the directory's lock file
    /// serialises check-then-rename, and the published file is read back before the lock is released. Atomic only
    /// among processes that share this mount; refused on network filesystems, where a killed writer's rename can land
    /// after its lock is gone. Never shares a directory with the other two (docs/design/object-store.md).
    /// </summary>
    LockedRename,
}
