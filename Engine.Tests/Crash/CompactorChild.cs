using SlateSharp.Common;
using SlateSharp.Storage;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// A compactor in its own process, for the kill test of a separate compactor: <c>dotnet SlateSharp.Tests.dll
/// compactor-child URL</c> opens <see cref="DbCompactor"/> on the database, prints "opened" and compacts until it is
/// killed (by the parent, or by itself with SIGKILL at <c>SLATESHARP_CRASH_POINT=name:n</c>). Exit 3 on an
/// unexpected error, 4 when fenced, 2 for bad arguments.
/// </summary>
internal static class CompactorChild
{
    public const string Verb = "compactor-child";

    /// <summary>The compaction settings the test's writer and this child share: small jobs that start early.</summary>
    public static DbOptions Options(int seed, ObjectStoreOptions? store = null) => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(5),
        MemtableSizeBytes = 16 << 10,
        MaxUnflushedBytes = 1 << 20,
        BlockSizeBytes = 512,
        L0MaxSsts = 64,
        ManifestPollInterval = TimeSpan.FromMilliseconds(50),
        Compaction = new CompactionOptions { Enabled = false, MinSourcesPerJob = 2, TargetSstBytes = 8 << 10, MaxSubcompactions = 2, PollInterval = TimeSpan.FromMilliseconds(20), ReadaheadBytes = 4096 },
        RandomSeed = seed,
        ObjectStore = store,
    };

    public static int Run(string url)
    {
        (string Name, int Count)? point;
        try
        {
            point = CrashChild.ParseCrashPoint(Environment.GetEnvironmentVariable(CrashChildArgs.CrashPointVariable));
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            return CrashChild.BadArguments;
        }

        if (point is var (name, count))
        {
            var reached = 0;
            CrashPoints.Hook = p =>
            {
                if (p == name && Interlocked.Increment(ref reached) == count)
                {
                    CrashChild.KillSelf();
                }
            };
        }

        try
        {
            return RunAsync(url).GetAwaiter().GetResult();
        }
        catch (SlateSharpException e) when (e.IsFenced)
        {
            Console.Error.WriteLine($"compactor-child: fenced: {e.Message}");
            return CrashChild.NotKilled;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"compactor-child: unexpected error: {e}");
            return CrashChild.Failed;
        }
    }

    private static async Task<int> RunAsync(string url)
    {
        await using var compactor = await DbCompactor.OpenAsync(url, Options(Environment.ProcessId));
        Console.Out.WriteLine("opened");
        Console.Out.Flush();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await compactor.RunAsync(limit.Token);
        Console.Error.WriteLine("compactor-child: nobody killed this process within 2 minutes");
        return CrashChild.NotKilled;
    }
}
