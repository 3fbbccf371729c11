namespace SlateSharp.Storage.Local;

/// <summary>What a failed filesystem call was doing, which decides the advice in its error.</summary>
internal enum LocalAccess
{
    /// <summary>Opening the store (for reading or writing): the operator may choose another directory or read-only.</summary>
    Open,

    /// <summary>Reading an object, a directory or a listing.</summary>
    Read,

    /// <summary>Creating, publishing or deleting an object.</summary>
    Write,
}

/// <summary>
/// Turns a failed filesystem call into the engine's error. The kind follows the errno: what only the operator can fix
/// (permissions, a read-only mount, a path through a file, a kernel pseudo-filesystem, a name too long) is
/// <see cref="ErrorKind.Invalid"/>; what may pass (a full disk, an I/O error, anything unknown) is
/// <see cref="ErrorKind.Unavailable"/>. The message says what failed, why (a missing or non-directory component is
/// named, never a bare "could not find"), on which path, and what to do.
/// </summary>
internal static class LocalErrors
{
    public static SlateSharpException FromErrno(int errno, string what, string path, string? store, LocalAccess access, Exception? inner = null)
    {
        var explanation = errno is LibC.ENoEnt or LibC.ENotDir ? Explain(path) : null;
        var reason = explanation?.Text ?? LibC.Describe(errno);
        var kind = explanation?.Kind ?? KindOf(errno);
        var details = store is null ? $"path={path}" : $"path={path} store={store}";
        return new SlateSharpException(kind, $"{what}: {reason} ({details}). {explanation?.Advice ?? Advice(errno, access)}", inner);
    }

    /// <summary>
    /// The error for a .NET I/O exception: its errno where .NET keeps one (the HResult of a plain IOException), else
    /// the errno its type stands for.
    /// </summary>
    public static SlateSharpException FromException(Exception error, string what, string path, string? store, LocalAccess access)
    {
        if (error is SlateSharpException typed)
        {
            return typed;
        }

        var errno = error switch
        {
            UnauthorizedAccessException => LibC.EAcces,
            PathTooLongException => LibC.ENameTooLong,
            FileNotFoundException or DirectoryNotFoundException => LibC.ENoEnt,
            ArgumentOutOfRangeException { ParamName: "value" } => LibC.EFBig, // how .NET reports EFBIG from a write
            IOException { HResult: > 0 and < 4096 } io => io.HResult,
            _ => 0,
        };
        if (errno == 0)
        {
            var details = store is null ? $"path={path}" : $"path={path} store={store}";
            return Errors.Unavailable($"{what}: {error.Message} ({details}). retry; if it persists, check the filesystem", error);
        }

        return FromErrno(errno, what, path, store, access, error);
    }

    /// <summary>True for the exceptions .NET file APIs throw for a failed system call.</summary>
    public static bool IsIo(Exception error) => error is IOException or UnauthorizedAccessException;

    /// <summary>Also EFBIG, which .NET reports from a write as an ArgumentOutOfRangeException.</summary>
    public static bool IsIoOrFileTooLarge(Exception error) => IsIo(error) || error is ArgumentOutOfRangeException { ParamName: "value" };

    /// <summary>
    /// Why <paramref name="path"/> cannot be reached: the first component that does not exist or is not a directory,
    /// or the kernel pseudo-filesystem it lies on; null when every component is a directory.
    /// </summary>
    public static (string Text, ErrorKind Kind, string Advice)? Explain(string path)
    {
        if (PseudoFilesystem(path) is { } pseudo)
        {
            return pseudo;
        }

        var current = string.Empty;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current += "/" + part;
            var errno = FileIdentity.TryStat(current, out var stat);
            if (errno == LibC.ENoEnt)
            {
                return ($"{current} does not exist", ErrorKind.Unavailable, "it may have been removed meanwhile; check the path and retry");
            }

            if (errno == 0 && !stat.IsDirectory && current.Length < path.Length)
            {
                return ($"{current} is a file, not a directory", ErrorKind.Invalid, "choose a path whose every parent is a directory");
            }
        }

        return null;
    }

    /// <summary>
    /// The kernel pseudo-filesystem (proc, sysfs, cgroup...) that <paramref name="path"/> or its nearest existing
    /// ancestor lies on, which can never hold a store; null for every other filesystem.
    /// </summary>
    public static (string Text, ErrorKind Kind, string Advice)? PseudoFilesystem(string path)
    {
        var existing = path;
        while (FileIdentity.TryStat(existing, out _) != 0)
        {
            var parent = Path.GetDirectoryName(existing);
            if (parent is null)
            {
                return null;
            }

            existing = parent;
        }

        return FileIdentity.FilesystemType(existing) is { } type && FilesystemKinds.IsPseudo(type)
            ? ($"{existing} is on a kernel pseudo-filesystem ({FilesystemKinds.Name(type)}), which cannot hold a store", ErrorKind.Invalid,
                "choose a directory on a disk, an NFS share or a FUSE mount")
            : null;
    }

    private static ErrorKind KindOf(int errno) => errno switch
    {
        LibC.EAcces or LibC.EPerm or LibC.ERoFs or LibC.ENotDir or LibC.ENameTooLong or LibC.ELoop or LibC.EFBig => ErrorKind.Invalid,
        _ => ErrorKind.Unavailable,
    };

    private static string Advice(int errno, LocalAccess access) => (errno, access) switch
    {
        (LibC.EAcces or LibC.EPerm, LocalAccess.Read) =>
            "give this process read access to the directory (check its owner, mode and ACLs)",
        (LibC.EAcces or LibC.EPerm, LocalAccess.Open) =>
            "give this process write access to the directory (check its owner, mode, ACLs and attributes such as chattr +i), or open the store read-only to only read it",
        (LibC.EAcces or LibC.EPerm, _) =>
            "give this process write access to the directory (check its owner, mode, ACLs and attributes such as chattr +i)",
        (LibC.ERoFs, LocalAccess.Open) => "the filesystem is mounted read-only: remount it read-write, or open the store read-only to only read it",
        (LibC.ERoFs, _) => "the filesystem is mounted read-only: remount it read-write to write to the store",
        (LibC.ENoSpc or LibC.EDQuot, _) => "free space on the filesystem (or raise the quota), then retry",
        (LibC.EIo, _) => "the filesystem reported an I/O error: check the disk or the mount (dmesg, the FUSE daemon's log), then retry",
        (LibC.ENameTooLong or LibC.ELoop, _) => "use a shorter path without symbolic link loops",
        (LibC.EFBig, _) => "the object is larger than this filesystem allows for one file",
        _ => "retry; if it persists, check the filesystem",
    };
}
