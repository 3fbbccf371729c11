using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace SlateSharp.Storage.Local;

/// <summary>
/// An exclusive lock on one directory of the store, held while a put or delete checks and renames in it.
/// Within the process a semaphore per directory orders waiters without blocking threads; across processes an
/// exclusive <c>flock</c> on the directory's <c>.slatesharp-lock</c> file does (released by the kernel if the holder
/// dies). Across machines or separate mounts of one bucket it guarantees nothing; see docs/design/object-store.md.
/// </summary>
internal sealed class DirectoryLock : IDisposable
{
    public const string FileName = ObjectPath.ReservedPrefix + "-lock";

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> InProcess = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _gate;
    private readonly IFileSystemCalls _calls;
    private int _fd;

    private DirectoryLock(SemaphoreSlim gate, int fd, IFileSystemCalls calls)
    {
        _gate = gate;
        _fd = fd;
        _calls = calls;
    }

    public static async ValueTask<DirectoryLock> AcquireAsync(string directory, IFileSystemCalls calls, CancellationToken cancellationToken)
    {
        var lockPath = Path.Combine(directory, FileName);
        var gate = InProcess.GetOrAdd(lockPath, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var fd = OpenLockFile(lockPath);
            if (fd < 0)
            {
                throw Errors.Unavailable($"cannot open lock file: {LibC.Describe(-fd)} (path={lockPath})");
            }

            var errno = calls.Flock(fd, LibC.LockEx | LibC.LockNb);
            if (errno == LibC.EAgain)
            {
                // Another process holds it for the length of one rename: wait for it off the async path.
                errno = await Task.Run(() => calls.Flock(fd, LibC.LockEx), CancellationToken.None).ConfigureAwait(false);
            }

            if (errno != 0)
            {
                CloseLockFile(fd);
                throw Errors.Unavailable($"cannot lock: {LibC.Describe(errno)} (path={lockPath})");
            }

            return new DirectoryLock(gate, fd, calls);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>Opens (creating if needed) a lock file; returns the fd, or -errno.</summary>
    public static int OpenLockFile(string path)
    {
        var fd = LibC.Open(path, LibC.ORdWr | LibC.OCreat | LibC.OCloExec, 0b110_100_100);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    public static void CloseLockFile(int fd)
    {
        if (fd >= 0)
        {
            _ = LibC.Close(fd);
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0)
        {
            return;
        }

        _ = _calls.Flock(fd, LibC.LockUn);
        CloseLockFile(fd);
        _gate.Release();
    }
}
