using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace SlateSharp.Storage.Local;

/// <summary>What the probe found for one way of publishing.</summary>
/// <param name="Name">The primitive tried, e.g. <c>link()</c>.</param>
/// <param name="Works">True when it behaved exactly as the store needs.</param>
/// <param name="Detail">What happened, with the errno where a call failed.</param>
internal sealed record ProbeFinding(string Name, bool Works, string Detail);

/// <summary>The probe's findings for a directory.</summary>
/// <param name="HardLink">Whether link() publishes without replacing.</param>
/// <param name="RenameNoReplace">Whether renameat2(RENAME_NOREPLACE) does.</param>
/// <param name="Locking">Whether exclusive flocks are enforced and a renamed file keeps its size and time.</param>
/// <param name="KilledRename">
/// Whether a writer killed inside a locked rename cannot release the lock before the rename settled (by filesystem
/// type, see <see cref="FilesystemKinds.KilledRenameSettlesBeforeUnlock"/>). Locked puts need both.
/// </param>
internal sealed record ProbeReport(ProbeFinding HardLink, ProbeFinding RenameNoReplace, ProbeFinding Locking, ProbeFinding KilledRename)
{
    /// <summary>True when check-then-rename under a lock is safe here (LockedRename, if-version-matches).</summary>
    public bool LockedRenameIsSafe => Locking.Works && KilledRename.Works;

    public bool Supports(CommitStrategy strategy) => strategy switch
    {
        CommitStrategy.HardLink => HardLink.Works,
        CommitStrategy.RenameNoReplace => RenameNoReplace.Works,
        CommitStrategy.LockedRename => LockedRenameIsSafe,
        _ => false,
    };

    public override string ToString() =>
        $"{HardLink.Name}: {HardLink.Detail}; {RenameNoReplace.Name}: {RenameNoReplace.Detail}; {Locking.Name}: {Locking.Detail}; " +
        $"{KilledRename.Name}: {KilledRename.Detail}";
}

/// <summary>
/// Tries each publish primitive in a scratch sub-directory of the store's root and checks it behaves as required
/// (publishes, and refuses to replace an existing name). Removes the scratch directory afterwards.
/// </summary>
internal static class CommitProbe
{
    private static readonly byte[] First = Encoding.ASCII.GetBytes("first");
    private static readonly byte[] Second = Encoding.ASCII.GetBytes("second");

    // A time with every 100 ns digit set, as a put stamps its temporary file.
    private static readonly DateTime StampedTime = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc).AddTicks(7_890_123);

    /// <summary>
    /// Runs the probe. A root in which this process cannot even create the scratch directory (no write permission,
    /// a read-only mount) fails with the typed error for that errno, naming the root.
    /// </summary>
    public static ProbeReport Run(string root, IFileSystemCalls calls)
    {
        var scratch = Path.Combine(root, ObjectPath.ReservedPrefix + "-probe-" + RandomNumberGenerator.GetHexString(12, lowercase: true));
        if (LibC.Mkdir(scratch, 0b111_101_101) != 0)
        {
            throw LocalErrors.FromErrno(
                Marshal.GetLastPInvokeError(), "cannot open for writing: cannot create files in the store directory", root, null, LocalAccess.Open);
        }

        try
        {
            return new ProbeReport(
                ProbeNoReplace("link()", scratch, "link", calls.Link),
                ProbeNoReplace("renameat2(RENAME_NOREPLACE)", scratch, "noreplace", calls.RenameNoReplace),
                ProbeLockingRetried(scratch, calls),
                ProbeKilledRename(scratch, calls));
        }
        finally
        {
            TryDeleteDirectory(scratch);
        }
    }

    private static ProbeFinding ProbeNoReplace(string name, string scratch, string tag, Func<string, string, int> publish)
    {
        try
        {
            var a = Write(scratch, tag + "-a", First);
            var b = Write(scratch, tag + "-b", Second);
            var target = Path.Combine(scratch, tag + "-target");
            var errno = publish(a, target);
            if (errno != 0)
            {
                return new ProbeFinding(name, false, "failed: " + LibC.Describe(errno));
            }

            errno = publish(b, target);
            if (errno == 0)
            {
                return new ProbeFinding(name, false, "replaced an existing name instead of failing with EEXIST");
            }

            if (errno != LibC.EExist)
            {
                return new ProbeFinding(name, false, "onto an existing name failed with " + LibC.Describe(errno) + " instead of EEXIST");
            }

            if (!File.ReadAllBytes(target).AsSpan().SequenceEqual(First))
            {
                return new ProbeFinding(name, false, "the published file does not hold the bytes written");
            }

            return new ProbeFinding(name, true, "works");
        }
        catch (Exception e) when (LocalErrors.IsIo(e))
        {
            return new ProbeFinding(name, false, "failed: " + e.Message);
        }
    }

    /// <summary>
    /// The locked-rename probe, tried up to three times while it fails only the check of the renamed file's size and
    /// time. s3fs occasionally answers that check from a stale entry just after a rename; a filesystem that never keeps
    /// them fails every try. A put checks the same thing after each rename under the lock and reports an unknown
    /// outcome when it does not hold, so a filesystem that passes here once is still never trusted blindly.
    /// </summary>
    private static ProbeFinding ProbeLockingRetried(string scratch, IFileSystemCalls calls)
    {
        const int Attempts = 3;
        var finding = ProbeLocking(scratch, calls, "locked-1");
        for (var attempt = 2; attempt <= Attempts && !finding.Works && finding.Detail == RenamedFileChanged; attempt++)
        {
            finding = ProbeLocking(scratch, calls, $"locked-{attempt}");
            if (finding.Works)
            {
                return finding with { Detail = $"{finding.Detail}; the renamed file's check passed on try {attempt} of {Attempts}" };
            }
        }

        return finding;
    }

    private const string RenamedFileChanged =
        "a renamed file does not keep its size and the modification time it was given (to 100 ns), so a publish cannot be verified";

    private static ProbeFinding ProbeLocking(string scratch, IFileSystemCalls calls, string tag)
    {
        const string Name = "flock() + rename()";
        var lockPath = Path.Combine(scratch, tag + "-lock");
        var fd1 = DirectoryLocks.OpenLockFile(lockPath);
        var fd2 = DirectoryLocks.OpenLockFile(lockPath);
        try
        {
            if (fd1 < 0 || fd2 < 0)
            {
                return new ProbeFinding(Name, false, "cannot create a lock file: " + LibC.Describe(-Math.Min(fd1, fd2)));
            }

            var errno = calls.Flock(fd1, LibC.LockEx | LibC.LockNb);
            if (errno != 0)
            {
                return new ProbeFinding(Name, false, "flock failed: " + LibC.Describe(errno));
            }

            errno = calls.Flock(fd2, LibC.LockEx | LibC.LockNb);
            if (errno == 0)
            {
                return new ProbeFinding(Name, false, "a second exclusive lock was granted: locks are not enforced");
            }

            if (errno != LibC.EAgain)
            {
                return new ProbeFinding(Name, false, "a contended lock failed with " + LibC.Describe(errno) + " instead of EWOULDBLOCK");
            }

            var a = Write(scratch, tag + "-a", First);
            var b = Write(scratch, tag + "-b", Second);
            var target = Path.Combine(scratch, tag + "-target");
            File.SetLastWriteTimeUtc(b, StampedTime);
            var written = FileIdentity.Stat(b);
            errno = calls.Rename(a, target);
            if (errno == 0)
            {
                errno = calls.Rename(b, target);
            }

            if (errno != 0)
            {
                return new ProbeFinding(Name, false, "rename failed: " + LibC.Describe(errno));
            }

            if (!File.ReadAllBytes(target).AsSpan().SequenceEqual(Second))
            {
                return new ProbeFinding(Name, false, "a renamed file does not hold the bytes written");
            }

            if (FileIdentity.Stat(target) is not { } renamed || renamed.Size != written?.Size || renamed.Modified.UtcDateTime != StampedTime)
            {
                return new ProbeFinding(Name, false, RenamedFileChanged);
            }

            return new ProbeFinding(Name, true, "works (exclusive within this mount)");
        }
        catch (Exception e) when (LocalErrors.IsIo(e))
        {
            return new ProbeFinding(Name, false, "failed: " + e.Message);
        }
        finally
        {
            DirectoryLocks.CloseLockFile(fd1);
            DirectoryLocks.CloseLockFile(fd2);
        }
    }

    private static ProbeFinding ProbeKilledRename(string scratch, IFileSystemCalls calls)
    {
        const string Name = "killed rename";
        var type = calls.FilesystemType(scratch);
        var name = type is { } t ? FilesystemKinds.Name(t) : "unknown (statfs failed)";
        return type is { } known && FilesystemKinds.KilledRenameSettlesBeforeUnlock(known)
            ? new ProbeFinding(Name, true, $"settles before the lock is released ({name})")
            : new ProbeFinding(
                Name,
                false,
                $"not known to settle on this filesystem ({name}): a writer killed inside rename() may release its lock while the server still applies the rename");
    }

    private static string Write(string scratch, string name, byte[] content)
    {
        var path = Path.Combine(scratch, name);
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            // No fsync: the probe checks what the primitives do, not durability, and six fsyncs were most of the
            // time it took to open a store.
            stream.Write(content);
        }

        return path;
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (LocalErrors.IsIo(e))
        {
            // Leftover scratch directories carry the reserved prefix: listings ignore them.
        }
    }
}
