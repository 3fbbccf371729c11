namespace SlateSharp.Storage.Local;

/// <summary>
/// The publish primitives as raw calls returning 0 or an errno, so tests can make a healthy disk behave like a
/// filesystem without hard links. Paths are absolute.
/// </summary>
internal interface IFileSystemCalls
{
    int Link(string existingPath, string newPath);

    int RenameNoReplace(string sourcePath, string destinationPath);

    int Rename(string sourcePath, string destinationPath);

    /// <summary>flock(fd, operation).</summary>
    int Flock(int fd, int operation);

    /// <summary>The statfs magic number of the filesystem holding <paramref name="path"/>, or null.</summary>
    long? FilesystemType(string path);
}

/// <summary>The real calls, through libc.</summary>
internal sealed class PosixFileSystemCalls : IFileSystemCalls
{
    public static PosixFileSystemCalls Instance { get; } = new();

    public int Link(string existingPath, string newPath) =>
        LibC.Link(existingPath, newPath) == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();

    public int RenameNoReplace(string sourcePath, string destinationPath) =>
        LibC.RenameAt2(LibC.AtFdCwd, sourcePath, LibC.AtFdCwd, destinationPath, LibC.RenameNoReplace) == 0
            ? 0
            : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();

    public int Rename(string sourcePath, string destinationPath) =>
        LibC.Rename(sourcePath, destinationPath) == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();

    public long? FilesystemType(string path) => FileIdentity.FilesystemType(path);

    public int Flock(int fd, int operation)
    {
        while (true)
        {
            if (LibC.Flock(fd, operation) == 0)
            {
                return 0;
            }

            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != LibC.EIntr)
            {
                return errno;
            }
        }
    }
}
