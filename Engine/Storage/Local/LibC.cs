using System.Runtime.InteropServices;

namespace SlateSharp.Storage.Local;

/// <summary>The few POSIX calls the local store needs that .NET does not expose (Linux, glibc).</summary>
internal static unsafe partial class LibC
{
    public const int AtFdCwd = -100;
    public const uint RenameNoReplace = 1;
    public const int LockEx = 2;
    public const int LockNb = 4;
    public const int LockUn = 8;
    public const int ORdOnly = 0;
    public const int OWrOnly = 1;
    public const int ORdWr = 2;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int OCloExec = 0x80000;
    public const int ODirectory = 0x10000;
    public const int AtEmptyPath = 0x1000;
    public const uint StatxBasicStats = 0x7ff;

    public const int EPerm = 1;
    public const int ENoEnt = 2;
    public const int EIntr = 4;
    public const int EIo = 5;
    public const int EAgain = 11;
    public const int EAcces = 13;
    public const int EBusy = 16;
    public const int EExist = 17;
    public const int EXDev = 18;
    public const int ENotDir = 20;
    public const int EIsDir = 21;
    public const int EInval = 22;
    public const int EFBig = 27;
    public const int ENoSpc = 28;
    public const int ERoFs = 30;
    public const int EMLink = 31;
    public const int ENameTooLong = 36;
    public const int ENoSys = 38;
    public const int ENotEmpty = 39;
    public const int ELoop = 40;
    public const int EOpNotSupp = 95;
    public const int EDQuot = 122;

    private const string Library = "libc";

    [LibraryImport(Library, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string oldPath, string newPath);

    [LibraryImport(Library, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

    [LibraryImport(Library, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rename(string oldPath, string newPath);

    [LibraryImport(Library, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport(Library, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    /// <summary>statfs(2) into a buffer whose first field is the filesystem's magic number (f_type, a long).</summary>
    [LibraryImport(Library, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statfs(string path, StatfsBuffer* buffer);

    [LibraryImport(Library, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirFd, string path, int flags, uint mask, StatxBuffer* buffer);

    [LibraryImport(Library, EntryPoint = "strerror")]
    private static partial nint StrError(int errno);

    /// <summary>The symbolic name and text of an errno, e.g. "ENOTSUP (Operation not supported)".</summary>
    public static string Describe(int errno)
    {
        var name = errno switch
        {
            EPerm => "EPERM",
            ENoEnt => "ENOENT",
            EIntr => "EINTR",
            EIo => "EIO",
            EAgain => "EAGAIN",
            EAcces => "EACCES",
            EBusy => "EBUSY",
            EExist => "EEXIST",
            EXDev => "EXDEV",
            ENotDir => "ENOTDIR",
            EIsDir => "EISDIR",
            EInval => "EINVAL",
            EFBig => "EFBIG",
            ENoSpc => "ENOSPC",
            ERoFs => "EROFS",
            EMLink => "EMLINK",
            ENameTooLong => "ENAMETOOLONG",
            ENoSys => "ENOSYS",
            ENotEmpty => "ENOTEMPTY",
            ELoop => "ELOOP",
            EOpNotSupp => "ENOTSUP",
            EDQuot => "EDQUOT",
            _ => "errno " + errno,
        };
        var text = Marshal.PtrToStringUTF8(StrError(errno));
        return $"{name} ({text})";
    }

    /// <summary>struct statfs of glibc on 64-bit Linux (120 bytes); only f_type is read.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    public struct StatfsBuffer
    {
        [FieldOffset(0)] public long Type;
    }

    /// <summary>struct statx from linux/stat.h: a fixed layout on every architecture.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct StatxBuffer
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(16)] public uint NLink;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(96)] public long CtimeSeconds;
        [FieldOffset(104)] public uint CtimeNanoseconds;
        [FieldOffset(112)] public long MtimeSeconds;
        [FieldOffset(120)] public uint MtimeNanoseconds;
        [FieldOffset(136)] public uint DevMajor;
        [FieldOffset(140)] public uint DevMinor;
    }
}
