using System.Diagnostics;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// Directories this process cannot write, made for real (tests run as root, so file modes alone do not stop it):
/// <see cref="Immutable"/> sets the immutable attribute (<c>chattr +i</c>: every change fails with EPERM), or, for a
/// process without root, clears the write bits (EACCES); <see cref="MountReadOnly"/> mounts a tmpfs read-only and
/// <see cref="BindReadOnly"/> puts a read-only bind mount over a directory in use (EROFS). Undone on dispose, so the test directory can be removed. A machine that allows neither skips the test
/// (or fails it under SLATESHARP_REQUIRE_ALL_TARGETS=1).
/// </summary>
internal sealed class RestrictedDirectory : IDisposable
{
    private readonly Action _undo;

    private RestrictedDirectory(string path, Action undo)
    {
        Path = path;
        _undo = undo;
    }

    public string Path { get; }

    /// <summary>Makes the existing directory <paramref name="path"/> unwritable for this process.</summary>
    public static RestrictedDirectory Immutable(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            TestEnvironment.Missing("Linux (the local store runs only there)");
            throw new InvalidOperationException();
        }

        if (IsRoot())
        {
            Run("chattr", "+i", path);
            var restricted = new RestrictedDirectory(path, () => Run("chattr", "-i", path));
            restricted.RequireUnwritable("chattr +i");
            return restricted;
        }

        var mode = File.GetUnixFileMode(path);
        File.SetUnixFileMode(path, mode & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        var byMode = new RestrictedDirectory(path, () =>
        {
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(path, mode);
            }
        });
        byMode.RequireUnwritable("chmod a-w");
        return byMode;
    }

    /// <summary>
    /// Mounts a small tmpfs on the existing empty directory <paramref name="path"/>, lets <paramref name="fill"/>
    /// write into it, then remounts it read-only.
    /// </summary>
    public static RestrictedDirectory MountReadOnly(string path, Action<string>? fill = null)
    {
        Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", path);
        var mounted = new RestrictedDirectory(path, () => Run("umount", path));
        try
        {
            fill?.Invoke(path);
            Run("mount", "-o", "remount,ro", path);
            mounted.RequireUnwritable("a read-only tmpfs");
            return mounted;
        }
        catch
        {
            mounted.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Mounts the existing directory <paramref name="path"/> read-only over itself (a read-only bind mount), so that
    /// everything opened there from now on is on a read-only filesystem while files already open stay writable, as
    /// when a disk is remounted read-only under a running process.
    /// </summary>
    public static RestrictedDirectory BindReadOnly(string path)
    {
        Run("mount", "--bind", path, path);
        var mounted = new RestrictedDirectory(path, () => Run("umount", path));
        try
        {
            Run("mount", "-o", "remount,ro,bind", path);
            mounted.RequireUnwritable("a read-only bind mount");
            return mounted;
        }
        catch
        {
            mounted.Dispose();
            throw;
        }
    }

    public void Dispose() => _undo();

    private void RequireUnwritable(string how)
    {
        var probe = System.IO.Path.Combine(Path, "write-probe");
        try
        {
            File.WriteAllText(probe, "x");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        File.Delete(probe);
        Dispose();
        TestEnvironment.Missing($"a directory this process cannot write ({how} did not stop a write here)");
    }

    private static bool IsRoot() => File.ReadAllText("/proc/self/status").Contains("Uid:\t0\t", StringComparison.Ordinal);

    private static void Run(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        string error;
        int code;
        try
        {
            using var process = Process.Start(info)!;
            error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            code = process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            error = e.Message;
            code = -1;
        }

        if (code != 0)
        {
            TestEnvironment.Missing($"'{tool} {string.Join(' ', arguments)}' (it answered: {error.Trim()})");
        }
    }
}
