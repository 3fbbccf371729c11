using SlateSharp.Storage.Local;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// The real publish calls, except that chosen ones fail with a fixed errno, so a healthy disk behaves like a
/// filesystem without hard links (gcsfuse answers ENOSYS, s3fs ENOTSUP) or without RENAME_NOREPLACE (EINVAL), or
/// a disk that fails every publish once <see cref="PublishErrno"/> is set (after the store opened), or another
/// filesystem type (<see cref="FilesystemMagic"/>); and hooks that observe renames and unlocks.
/// </summary>
internal sealed class FaultyFileSystemCalls : IFileSystemCalls
{
    public const int ENotSup = 95;
    public const int EInval = 22;

    public int? LinkErrno { get; init; }

    public int? RenameNoReplaceErrno { get; init; }

    public int? FlockErrno { get; init; }

    /// <summary>When set, link, renameat2 and rename all fail with this errno (EIO, ENOSPC, EROFS...).</summary>
    public int? PublishErrno { get; set; }

    public int Calls { get; private set; }

    public int Link(string existingPath, string newPath)
    {
        Calls++;
        return PublishErrno ?? LinkErrno ?? PosixFileSystemCalls.Instance.Link(existingPath, newPath);
    }

    public int RenameNoReplace(string sourcePath, string destinationPath)
    {
        Calls++;
        return PublishErrno ?? RenameNoReplaceErrno ?? PosixFileSystemCalls.Instance.RenameNoReplace(sourcePath, destinationPath);
    }

    /// <summary>Runs after every successful rename, with its destination (e.g. to replace it, as a late copy would).</summary>
    public Action<string>? AfterRename { get; set; }

    /// <summary>Runs right before every flock(LOCK_UN), i.e. while the lock is still held.</summary>
    public Action? BeforeUnlock { get; set; }

    public int Rename(string sourcePath, string destinationPath)
    {
        var errno = PublishErrno ?? PosixFileSystemCalls.Instance.Rename(sourcePath, destinationPath);
        if (errno == 0)
        {
            AfterRename?.Invoke(destinationPath);
        }

        return errno;
    }

    public int Flock(int fd, int operation)
    {
        if (operation == LibC.LockUn)
        {
            BeforeUnlock?.Invoke();
        }

        return FlockErrno ?? PosixFileSystemCalls.Instance.Flock(fd, operation);
    }

    /// <summary>When set, the filesystem claims to be of this statfs type (e.g. 0xFF534D42, cifs).</summary>
    public long? FilesystemMagic { get; init; }

    public long? FilesystemType(string path) => FilesystemMagic ?? PosixFileSystemCalls.Instance.FilesystemType(path);
}
