using System.Runtime.InteropServices;

namespace SlateSharp.Storage.Local;

/// <summary>Creating and syncing directories with the errno of every failure kept, for <see cref="LocalErrors"/>.</summary>
internal static class LocalDirectories
{
    private const uint DirectoryMode = 0b111_111_111; // 0777, narrowed by the umask as mkdir -p does

    /// <summary>
    /// Creates <paramref name="directory"/> and its missing parents. Returns 0, or the errno and in
    /// <paramref name="failed"/> the directory that could not be created (ENOTDIR when a component is a file).
    /// A directory another process creates meanwhile is success.
    /// </summary>
    public static int CreateAll(string directory, out string failed)
    {
        failed = directory;
        var errno = FileIdentity.TryStat(directory, out var stat);
        if (errno == 0)
        {
            return stat.IsDirectory ? 0 : LibC.ENotDir;
        }

        if (errno != LibC.ENoEnt)
        {
            return errno;
        }

        var parent = Path.GetDirectoryName(directory);
        if (parent is not null && parent != directory)
        {
            errno = CreateAll(parent, out failed);
            if (errno != 0)
            {
                return errno;
            }
        }

        failed = directory;
        if (LibC.Mkdir(directory, DirectoryMode) == 0)
        {
            return 0;
        }

        errno = Marshal.GetLastPInvokeError();
        if (errno != LibC.EExist)
        {
            return errno;
        }

        return FileIdentity.TryStat(directory, out stat) == 0 && stat.IsDirectory ? 0 : LibC.ENotDir;
    }

    /// <summary>Returns 0 when this process can open <paramref name="directory"/> for listing, else the errno.</summary>
    public static int CheckReadable(string directory)
    {
        var fd = LibC.Open(directory, LibC.ORdOnly | LibC.ODirectory | LibC.OCloExec, 0);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        _ = LibC.Close(fd);
        return 0;
    }

    /// <summary>
    /// fsyncs <paramref name="directory"/> so that a name just published or removed in it survives a crash. A
    /// filesystem that cannot sync directories (EINVAL, ENOSYS, ENOTSUP) has nothing to sync; any other failure is
    /// an error that says the change is visible but may not be durable (an ambiguous outcome for the caller).
    /// </summary>
    public static void Sync(string directory, string objectPath, string store, string change)
    {
        var fd = LibC.Open(directory, LibC.ORdOnly | LibC.ODirectory | LibC.OCloExec, 0);
        var errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (fd >= 0)
        {
            errno = LibC.Fsync(fd) == 0 ? 0 : Marshal.GetLastPInvokeError();
            _ = LibC.Close(fd);
        }

        if (errno is 0 or LibC.EInval or LibC.ENoSys or LibC.EOpNotSupp)
        {
            return;
        }

        throw LocalErrors.FromErrno(
            errno, $"the object was {change} but its directory {directory} could not be synced, so the change may not survive a crash", objectPath, store, LocalAccess.Write);
    }
}
