using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace SlateSharp.Storage.Local;

/// <summary>
/// Records in every directory a store publishes into which kind of commit strategy publishes there, and refuses a
/// store of the other kind. <see cref="CommitStrategy.HardLink"/> and <see cref="CommitStrategy.RenameNoReplace"/>
/// never replace a name, so they mix safely; <see cref="CommitStrategy.LockedRename"/> checks that the name is absent
/// and then renames over it, which overwrites an object a lock-free publisher created in between, so it mixes only
/// with itself. The record is an empty file whose name says the kind (<see cref="NoReplaceName"/> or
/// <see cref="LockedRenameName"/>): it is never rewritten, so a reader never sees it half made, and listings skip it
/// (reserved prefix).
/// </summary>
/// <remarks>
/// Each directory is checked once per store instance, at open for the root and before the first put for the others
/// (a database may be opened at a prefix of another store's root, so the root alone is not enough). Where locks are
/// enforced the check and the create run under the directory lock, so two stores of different kinds opening at once
/// cannot both pass. Where they are not, no <see cref="CommitStrategy.LockedRename"/> store can open on this mount at
/// all, and the store checks, creates its own marker, and checks again.
/// </remarks>
internal sealed class StrategyMarkers(CommitStrategy strategy, DirectoryLocks? locks, string store)
{
    public const string NoReplaceName = ObjectPath.ReservedPrefix + "-commit-noreplace";
    public const string LockedRenameName = ObjectPath.ReservedPrefix + "-commit-lockedrename";

    // Both kinds lock the same stripe, whichever marker they look for.
    private const string LockName = ObjectPath.ReservedPrefix + "-commit";

    private readonly ConcurrentDictionary<string, bool> _checked = new(StringComparer.Ordinal);

    private bool Locked => strategy == CommitStrategy.LockedRename;

    private string Own => Locked ? LockedRenameName : NoReplaceName;

    private string Other => Locked ? NoReplaceName : LockedRenameName;

    /// <summary>Checks and marks <paramref name="directory"/>, blocking; for opening.</summary>
    public void Ensure(string directory, string pathForErrors)
    {
        if (_checked.ContainsKey(directory))
        {
            return;
        }

        using (locks?.Acquire(directory, LockName, pathForErrors, store))
        {
            EnsureUnlocked(directory, pathForErrors, "cannot open for writing");
        }
    }

    /// <summary>Checks and marks the directory of a put, the first time this store puts into it.</summary>
    public async ValueTask EnsureAsync(string directory, string pathForErrors, CancellationToken cancellationToken)
    {
        if (_checked.ContainsKey(directory))
        {
            return;
        }

        using (locks is null ? null : await locks.AcquireAsync(directory, LockName, pathForErrors, store, cancellationToken).ConfigureAwait(false))
        {
            EnsureUnlocked(directory, pathForErrors, "cannot write object");
        }
    }

    private void EnsureUnlocked(string directory, string pathForErrors, string what)
    {
        ThrowIfOtherKind(directory, pathForErrors, what);
        var marker = directory + "/" + Own;
        var fd = LibC.Open(marker, LibC.OWrOnly | LibC.OCreat | LibC.OExcl | LibC.OCloExec, 0b110_100_100);
        if (fd >= 0)
        {
            _ = LibC.Close(fd);
            LocalDirectories.Sync(directory, marker, store, "marked with its commit strategy");
        }
        else if (Marshal.GetLastPInvokeError() is var errno && errno != LibC.EExist)
        {
            throw LocalErrors.FromErrno(errno, $"{what}: cannot record the commit strategy in {marker}", pathForErrors, store, LocalAccess.Write);
        }

        if (locks is null)
        {
            ThrowIfOtherKind(directory, pathForErrors, what); // unserialised: one of two racing stores sees the other
        }

        _checked[directory] = true;
    }

    private void ThrowIfOtherKind(string directory, string pathForErrors, string what)
    {
        var other = directory + "/" + Other;
        var errno = FileIdentity.TryStat(other, out _);
        if (errno == LibC.ENoEnt)
        {
            return;
        }

        if (errno != 0)
        {
            throw LocalErrors.FromErrno(errno, $"{what}: cannot read the commit strategy marker {other}", pathForErrors, store, LocalAccess.Read);
        }

        var theirs = Locked ? "HardLink or RenameNoReplace" : "LockedRename";
        var fix = Locked
            ? "open this store without ForceCommitStrategy on a filesystem with link() or renameat2, like the others"
            : "stop the LockedRename writers, or open every writer of this directory with ForceCommitStrategy = LockedRename on one shared mount";
        throw Errors.Invalid(
            $"{what}: directory {directory} is written by stores that publish with {theirs} (marker {other}), and this store " +
            $"publishes with {strategy}; the two must not share a directory, since a locked rename can replace an object a " +
            $"link() or renameat2 publisher has just created (path={pathForErrors} store={store}). {fix}; " +
            $"once no {theirs} writer uses the directory any more, delete {other}");
    }
}
