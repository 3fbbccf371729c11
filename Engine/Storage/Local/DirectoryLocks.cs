using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace SlateSharp.Storage.Local;

/// <summary>
/// Exclusive locks that serialise check-then-rename for the objects of one directory. Each directory has
/// <see cref="Stripes"/> lock files (<c>.slatesharp-lock-0</c> to <c>-f</c>); an object always maps to the same one
/// (a stable hash of its name), so puts of different objects rarely wait for each other.
/// Within the store a semaphore per lock file orders waiters without blocking threads; across processes an exclusive
/// <c>flock</c> on the file does (released by the kernel if the holder dies). Lock files are opened once and kept
/// open until the store is disposed, since opening a file costs a round trip on FUSE mounts.
/// Across machines or separate mounts of one bucket this guarantees nothing; see docs/design/object-store.md.
/// </summary>
internal sealed class DirectoryLocks : IDisposable
{
    public const int Stripes = 16;
    public const string FilePrefix = ObjectPath.ReservedPrefix + "-lock-";

    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly IFileSystemCalls _calls;

    public DirectoryLocks(IFileSystemCalls calls) => _calls = calls;

    /// <summary>
    /// Holds the lock for <paramref name="objectName"/> in <paramref name="directory"/> until disposed; errors name
    /// <paramref name="objectPath"/> (the object's full path) in <paramref name="store"/>.
    /// </summary>
    public async ValueTask<IDisposable> AcquireAsync(string directory, string objectName, string objectPath, string store, CancellationToken cancellationToken)
    {
        var (slot, lockPath) = SlotFor(directory, objectName);
        await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var errno = _calls.Flock(OpenIfNeeded(slot, lockPath, objectPath, store), LibC.LockEx | LibC.LockNb);
            if (errno == LibC.EAgain)
            {
                // Another process holds it for the length of one rename: wait for it off the async path.
                errno = await Task.Run(() => _calls.Flock(slot.Fd, LibC.LockEx), CancellationToken.None).ConfigureAwait(false);
            }

            return Held.OrThrow(slot, _calls, errno, lockPath, objectPath, store);
        }
        catch
        {
            slot.Gate.Release();
            throw;
        }
    }

    /// <summary>The same, blocking the calling thread: for <see cref="LocalFileSystemObjectStore.Open"/>, which is synchronous.</summary>
    public IDisposable Acquire(string directory, string objectName, string objectPath, string store)
    {
        var (slot, lockPath) = SlotFor(directory, objectName);
        slot.Gate.Wait();
        try
        {
            var errno = _calls.Flock(OpenIfNeeded(slot, lockPath, objectPath, store), LibC.LockEx);
            return Held.OrThrow(slot, _calls, errno, lockPath, objectPath, store);
        }
        catch
        {
            slot.Gate.Release();
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
        foreach (var slot in _slots.Values)
        {
            slot.Dispose();
        }

        _slots.Clear();
    }

    private (Slot Slot, string LockPath) SlotFor(string directory, string objectName)
    {
        var lockPath = $"{directory}/{FilePrefix}{StableHash(objectName) % Stripes:x}";
        return (_slots.GetOrAdd(lockPath, static _ => new Slot()), lockPath);
    }

    /// <summary>The slot's fd, opening the lock file the first time; the caller holds the slot's gate.</summary>
    private static int OpenIfNeeded(Slot slot, string lockPath, string objectPath, string store)
    {
        if (slot.Fd < 0)
        {
            var fd = OpenLockFile(lockPath);
            if (fd < 0)
            {
                throw LocalErrors.FromErrno(-fd, $"cannot open the lock file {lockPath}", objectPath, store, LocalAccess.Write);
            }

            slot.Fd = fd;
        }

        return slot.Fd;
    }

    /// <summary>FNV-1a over the UTF-16 code units: the same in every process, unlike string.GetHashCode.</summary>
    private static uint StableHash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    private sealed class Slot : IDisposable
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public int Fd = -1;

        public void Dispose()
        {
            CloseLockFile(Interlocked.Exchange(ref Fd, -1));
            Gate.Dispose();
        }
    }

    private sealed class Held(Slot slot, IFileSystemCalls calls) : IDisposable
    {
        private int _released;

        public static Held OrThrow(Slot slot, IFileSystemCalls calls, int errno, string lockPath, string objectPath, string store) =>
            errno == 0 ? new Held(slot, calls) : throw LocalErrors.FromErrno(errno, $"cannot lock {lockPath}", objectPath, store, LocalAccess.Write);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            _ = calls.Flock(slot.Fd, LibC.LockUn);
            slot.Gate.Release();
        }
    }
}
