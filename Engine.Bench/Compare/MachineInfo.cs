using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SlateSharp.Bench.Compare;

/// <summary>Where and on what a report was measured, written into every JSON report.</summary>
internal sealed record MachineInfo(int Cores, string Os, string DotNet, DateTimeOffset Date, string? Commit)
{
    public static MachineInfo Current() => new(
        Environment.ProcessorCount,
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        DateTimeOffset.UtcNow,
        Environment.GetEnvironmentVariable("SLATESHARP_COMMIT") ?? GitHead());

    /// <summary>`git rev-parse HEAD` in the working directory, or null when git or a repository is not there.</summary>
    private static string? GitHead()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (git is null)
            {
                return null;
            }

            var head = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && head.Length > 0 ? head : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
