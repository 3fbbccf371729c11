using SlateSharp.Storage.Local;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// The real publish calls, except that chosen ones fail with a fixed errno, so a healthy disk behaves like a
/// filesystem without hard links (gcsfuse answers ENOSYS, s3fs ENOTSUP) or without RENAME_NOREPLACE (EINVAL), or
/// a disk that fails every publish once <see cref="PublishErrno"/> is set (after the store opened).
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

    public int Rename(string sourcePath, string destinationPath) => PublishErrno ?? PosixFileSystemCalls.Instance.Rename(sourcePath, destinationPath);

    public int Flock(int fd, int operation) => FlockErrno ?? PosixFileSystemCalls.Instance.Flock(fd, operation);
}
