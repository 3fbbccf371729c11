using System.Globalization;
using SlateSharp.Bench.Cli;

namespace SlateSharp.Bench.Compare;

/// <summary>
/// Runs every workload on every engine in alternating rounds: round 1 runs each workload on all engines in order,
/// then round 2 does the same, and so on. Load on a shared machine drifts over minutes; alternating puts each engine's
/// runs of one round side by side, so the per-round ratios compare runs made under the same load.
/// </summary>
internal static class CompareRunner
{
    public static async Task<List<WorkloadResult>> RunAsync(IReadOnlyList<string> engines, IReadOnlyList<WorkloadSpec> specs, int rounds, bool warmUp, RunDirectories directories, TextWriter output)
    {
        if (warmUp)
        {
            await WarmUpAsync(engines, specs, directories, output);
        }

        var results = new List<WorkloadResult>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var spec in specs)
            {
                foreach (var engine in engines)
                {
                    var directory = directories.For(engine, spec.Workload, round);
                    var result = await WorkloadRunner.RunAsync(engine, spec, directory, round);
                    directories.Release(directory);
                    results.Add(result);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {spec.Workload,-11} {engine,-10} {result.OpsPerSecond,12:N0} ops/s  p50 {result.P50Micros,9:0.0} µs  p99 {result.P99Micros,9:0.0} µs  max {result.MaxMicros,10:0} µs  peak RSS {result.PeakRssBytes / 1e6,5:0} MB{(result.Note is { } n ? "  " + n : "")}"));
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
            }
        }

        return results;
    }

    /// <summary>
    /// One short round that is not counted (a tenth of the keys, at most 20,000; 1 s for timed workloads). SlateSharp
    /// and ZoneTree are managed code that the JIT compiles and recompiles (tiered compilation) in their first seconds,
    /// while RocksDB and SQLite are native: without it, round 1 would time the JIT for two engines and not for two.
    /// </summary>
    private static async Task WarmUpAsync(IReadOnlyList<string> engines, IReadOnlyList<WorkloadSpec> specs, RunDirectories directories, TextWriter output)
    {
        output.WriteLine("warm-up round (not counted): every workload on every engine, small");
        foreach (var spec in specs)
        {
            var small = spec with { Keys = Math.Max(1, Math.Min(20_000, spec.Keys / 10)), Ops = Math.Min(spec.OpsOrDefault, 20_000), Duration = TimeSpan.FromSeconds(1) };
            foreach (var engine in engines)
            {
                var directory = directories.For(engine, spec.Workload, 0);
                _ = await WorkloadRunner.RunAsync(engine, small, directory, 0);
                directories.Release(directory);
            }
        }
    }
}
