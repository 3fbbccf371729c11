using System.Globalization;
using System.Runtime.InteropServices;
using SlateSharp.Common;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// The process the kill test kills: <c>dotnet SlateSharp.Tests.dll crash-child --url=... </c> opens the database
/// through the public API, prints "opened", and writes (<see cref="CrashWorkload"/>) until it is killed, logging every
/// call in an <see cref="AckLog"/>. With <c>SLATESHARP_CRASH_POINT=name:n</c> it kills itself with SIGKILL the n-th
/// time the engine reaches that crash point (<see cref="CrashPoints"/>). The engine logs to stderr
/// (<see cref="ChildLoggerFactory"/>). It never returns on its own except after a
/// planned close (exit 0), on an unexpected error (<see cref="Failed"/>, the error on stderr) or when nobody killed
/// it in time (<see cref="NotKilled"/>).
/// </summary>
internal static class CrashChild
{
    public const string Verb = "crash-child";
    public const int BadArguments = 2;
    public const int Failed = 3;
    public const int NotKilled = 4;

    private const int SigKill = 9;

    public static int Run(IEnumerable<string> arguments)
    {
        CrashChildArgs args;
        (string Name, int Count)? point;
        try
        {
            args = CrashChildArgs.Parse(arguments);
            point = ParseCrashPoint(Environment.GetEnvironmentVariable(CrashChildArgs.CrashPointVariable));
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            return BadArguments;
        }

        try
        {
            return RunAsync(args, point).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"crash-child: unexpected error: {e}");
            return Failed;
        }
    }

    /// <summary>"name:n" → (name, n); null for an empty variable.</summary>
    public static (string Name, int Count)? ParseCrashPoint(string? spec)
    {
        if (string.IsNullOrEmpty(spec))
        {
            return null;
        }

        var colon = spec.LastIndexOf(':');
        var name = colon < 0 ? spec : spec[..colon];
        var count = colon < 0 ? 1 : int.Parse(spec[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
        if (!CrashPoints.All.Contains(name) || count < 1)
        {
            throw new ArgumentException(
                $"crash-child: {CrashChildArgs.CrashPointVariable}='{spec}' is not name:n with n >= 1 and name one of {string.Join(", ", CrashPoints.All)}");
        }

        return (name, count);
    }

    private static async Task<int> RunAsync(CrashChildArgs args, (string Name, int Count)? point)
    {
        using var log = new AckLog(args.LogPath);
        if (point is var (name, count))
        {
            var reached = 0;
            CrashPoints.Hook = p =>
            {
                if (p == name && Interlocked.Increment(ref reached) == count)
                {
                    log.Crashing(name, count);
                    KillSelf();
                }
            };
        }

        var db = await SlateSharp.Db.OpenAsync(args.Url, args.DbOptions(args.Seed, new ChildLoggerFactory()));
        log.Opened();
        Console.Out.WriteLine("opened");
        Console.Out.Flush();
        var run = new CrashChildRun(db, log, args).RunAsync();
        var limit = Task.Delay(TimeSpan.FromSeconds(args.MaxRunSeconds));
        if (await Task.WhenAny(run, limit) == limit)
        {
            Console.Error.WriteLine($"crash-child: nobody killed this process within {args.MaxRunSeconds} s");
            return NotKilled;
        }

        await run;
        return 0;
    }

    /// <summary>SIGKILL to this process: no managed code runs after it, exactly as when the parent kills it.</summary>
    internal static void KillSelf()
    {
        _ = NativeMethods.Kill(Environment.ProcessId, SigKill);

        // A signal a process sends itself is delivered before kill() returns; never carry on if it somehow was not.
        Environment.FailFast("kill(getpid(), SIGKILL) returned");
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Kill(int pid, int signal);
    }
}
