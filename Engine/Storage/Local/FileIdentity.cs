using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SlateSharp.Storage.Local;

/// <summary>What <c>statx</c> says about a file, reduced to what the store needs.</summary>
internal readonly record struct FileStat(long Size, ObjectVersion Version, DateTimeOffset Modified, bool IsDirectory);

/// <summary>
/// What identifies the bytes of a local file without reading them: device and inode (which the kernel does not reuse
/// while a handle holds the file open), size and modification time (which change if it is written in place).
/// </summary>
internal readonly record struct FileKey(uint DevMajor, uint DevMinor, ulong Inode, ulong Size, long MtimeSeconds, uint MtimeNanoseconds);

/// <summary>
/// Version tokens for local files: inode, size and modification time. Every put stamps its temporary file with a
/// modification time unique within the process (<see cref="NextUniqueTimestamp"/>), so a replaced object gets a new
/// token even when the filesystem reuses the inode number and the size is unchanged.
/// </summary>
internal static unsafe class FileIdentity
{
    private const ushort FileTypeMask = 0xF000;
    private const ushort DirectoryType = 0x4000;
    private static long _lastTicks;

    public static FileStat Stat(SafeFileHandle handle, string pathForErrors)
    {
        LibC.StatxBuffer buffer;
        var fd = (int)handle.DangerousGetHandle();
        if (LibC.Statx(fd, string.Empty, LibC.AtEmptyPath, LibC.StatxBasicStats, &buffer) != 0)
        {
            throw LocalErrors.FromErrno(Marshal.GetLastPInvokeError(), "cannot stat", pathForErrors, null, LocalAccess.Read);
        }

        return ToStat(buffer);
    }

    /// <summary>Like <see cref="Stat(SafeFileHandle, string)"/>, with the file's <see cref="FileKey"/>.</summary>
    public static FileStat Stat(SafeFileHandle handle, string pathForErrors, out FileKey key)
    {
        LibC.StatxBuffer buffer;
        var fd = (int)handle.DangerousGetHandle();
        if (LibC.Statx(fd, string.Empty, LibC.AtEmptyPath, LibC.StatxBasicStats, &buffer) != 0)
        {
            throw LocalErrors.FromErrno(Marshal.GetLastPInvokeError(), "cannot stat", pathForErrors, null, LocalAccess.Read);
        }

        key = ToKey(buffer);
        return ToStat(buffer);
    }

    /// <summary>The <see cref="FileKey"/> of what is at <paramref name="path"/> now; returns 0 or the errno. Allocates nothing.</summary>
    public static int TryKey(string path, out FileKey key)
    {
        LibC.StatxBuffer buffer;
        if (LibC.Statx(LibC.AtFdCwd, path, 0, LibC.StatxBasicStats, &buffer) != 0)
        {
            key = default;
            return Marshal.GetLastPInvokeError();
        }

        key = (buffer.Mode & FileTypeMask) == DirectoryType ? default : ToKey(buffer);
        return 0;
    }

    /// <summary>Stats <paramref name="path"/>; null when nothing is there (also when a parent is a file).</summary>
    public static FileStat? Stat(string path)
    {
        var errno = TryStat(path, out var stat);
        return errno switch
        {
            0 => stat,
            LibC.ENoEnt or LibC.ENotDir => null,
            _ => throw LocalErrors.FromErrno(errno, "cannot stat", path, null, LocalAccess.Read),
        };
    }

    /// <summary>Stats <paramref name="path"/>; returns 0 or the errno.</summary>
    public static int TryStat(string path, out FileStat stat)
    {
        LibC.StatxBuffer buffer;
        if (LibC.Statx(LibC.AtFdCwd, path, 0, LibC.StatxBasicStats, &buffer) != 0)
        {
            stat = default;
            return Marshal.GetLastPInvokeError();
        }

        stat = ToStat(buffer);
        return 0;
    }

    /// <summary>The magic number of the filesystem <paramref name="path"/> lies on (statfs f_type), or null.</summary>
    public static long? FilesystemType(string path)
    {
        LibC.StatfsBuffer buffer;
        return LibC.Statfs(path, &buffer) == 0 ? buffer.Type : null;
    }

    /// <summary>A UTC time, strictly later than every earlier result in this process, at 100 ns resolution.</summary>
    public static DateTime NextUniqueTimestamp(TimeProvider time)
    {
        var now = time.GetUtcNow().UtcTicks;
        while (true)
        {
            var last = Volatile.Read(ref _lastTicks);
            var next = Math.Max(now, last + 1);
            if (Interlocked.CompareExchange(ref _lastTicks, next, last) == last)
            {
                return new DateTime(next, DateTimeKind.Utc);
            }
        }
    }

    private static FileKey ToKey(in LibC.StatxBuffer b) =>
        new(b.DevMajor, b.DevMinor, b.Inode, b.Size, b.MtimeSeconds, b.MtimeNanoseconds);

    private static FileStat ToStat(in LibC.StatxBuffer b)
    {
        var version = new ObjectVersion(string.Create(
            CultureInfo.InvariantCulture,
            $"{b.Inode:x}-{b.Size:x}-{b.MtimeSeconds:x}.{b.MtimeNanoseconds:x}"));
        var modified = DateTimeOffset.FromUnixTimeSeconds(b.MtimeSeconds).AddTicks(b.MtimeNanoseconds / 100);
        return new FileStat((long)b.Size, version, modified, (b.Mode & FileTypeMask) == DirectoryType);
    }
}
