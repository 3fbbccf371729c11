namespace SlateSharp.Storage.Local;

/// <summary>
/// What the store needs to know about a filesystem from its <c>statfs</c> magic number: its name for messages,
/// whether it is a kernel pseudo-filesystem (never a store), and whether a locked rename stays safe when the writer
/// is killed in the middle of it.
/// </summary>
internal static class FilesystemKinds
{
    public const long Fuse = 0x65735546;

    /// <summary>
    /// True where a writer killed inside <c>rename</c> cannot release its directory lock before the rename has either
    /// completed or been dropped: local filesystems (the rename is one operation in the kernel) and FUSE mounts (the
    /// kernel keeps the dying process until the daemon answers a request it has already read, and drops one it has
    /// not; measured on s3fs, see docs/design/object-store.md). Network filesystems (NFS, SMB, 9p, Ceph...) abandon
    /// the wait on SIGKILL while the server may still apply the rename after the lock is gone, so they are not.
    /// </summary>
    public static bool KilledRenameSettlesBeforeUnlock(long type) => type switch
    {
        Fuse => true,
        0xEF53 or 0x58465342 or 0x9123683E or 0x01021994 or 0x858458f6 or 0x794c7630 or 0xF2F52010 or 0x2fc12fc1
            or 0xca451a4e or 0x3153464a or 0x52654973 or 0x4d44 or 0x2011BAB0 or 0x7366746e or 0x5346544e => true,
        _ => false,
    };

    /// <summary>
    /// True for filesystems the kernel serves from local storage (not FUSE, not a network share): there an open file
    /// keeps its inode, so a cached handle whose (device, inode) still matches the path is the file at the path, and a
    /// read is a short copy from the page cache that is cheaper done in place than offloaded to the thread pool.
    /// </summary>
    public static bool IsKernelLocal(long type) => type != Fuse && KilledRenameSettlesBeforeUnlock(type);

    /// <summary>True for the kernel pseudo-filesystems (proc, sysfs, cgroup...) that can never hold a store.</summary>
    public static bool IsPseudo(long type) => type is 0x9fa0 or 0x62656572 or 0x27e0eb or 0x63677270 or 0x64626720
        or 0x74726163 or 0x73636673 or 0x6165676C or 0xcafe4a11 or 0x62656570 or 0xde5e81e4 or 0xf97cff8c or 0x1cd1
        or 0x42494e4d or 0x65735543 or 0x6e736673;

    /// <summary>The filesystem's usual name, or its magic number in hex.</summary>
    public static string Name(long type) => type switch
    {
        Fuse => "fuse",
        0xEF53 => "ext2/3/4",
        0x58465342 => "xfs",
        0x9123683E => "btrfs",
        0x01021994 => "tmpfs",
        0x858458f6 => "ramfs",
        0x794c7630 => "overlay",
        0xF2F52010 => "f2fs",
        0x2fc12fc1 => "zfs",
        0xca451a4e => "bcachefs",
        0x6969 => "nfs",
        0xFF534D42 => "cifs",
        0xFE534D42 => "smb2",
        0x01021997 => "9p",
        0x00c36400 => "ceph",
        0x0BD00BD0 => "lustre",
        0x9fa0 => "proc",
        0x62656572 => "sysfs",
        0x27e0eb => "cgroup",
        0x63677270 => "cgroup2",
        0x64626720 => "debugfs",
        0x74726163 => "tracefs",
        0x73636673 => "securityfs",
        0x6165676C => "pstore",
        0xcafe4a11 => "bpf",
        0x62656570 => "configfs",
        0xde5e81e4 => "efivarfs",
        0xf97cff8c => "selinuxfs",
        0x1cd1 => "devpts",
        0x42494e4d => "binfmt_misc",
        0x65735543 => "fusectl",
        0x6e736673 => "nsfs",
        _ => $"magic 0x{type:x}",
    };
}
