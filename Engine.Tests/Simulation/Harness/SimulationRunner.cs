using System.Diagnostics;
using System.Globalization;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;

namespace SlateSharp.Simulation;

/// <summary>What the runner was asked to do (from the command line and SLATESHARP_SIM_* variables).</summary>
internal sealed record RunRequest(
    ScenarioProfile Scenario, int FirstSeed, int Iterations, int? Seed, string? TracePath, string OutputDirectory, int MaxBugs, bool Verbose);

/// <summary>
/// Runs a scenario for many iterations, each in its own Coyote <see cref="TestingEngine"/> with one iteration and its
/// own seed (first seed + i), so that a seed alone replays one iteration: it picks the exploration strategy, seeds
/// Coyote's scheduler and choices, and seeds the engine's randomness. A failing iteration writes Coyote's
/// reproducible trace and the run's log to the output directory and prints how to replay it.
/// </summary>
internal static class SimulationRunner
{
    /// <summary>Framework calls Coyote reports as not intercepted that are harmless here: they complete on tasks Coyote controls.</summary>
    private static readonly HashSet<string> KnownUncontrolled = new(StringComparer.Ordinal)
    {
        "System.Threading.Tasks.Task.Delay",
        "System.Threading.Tasks.Task.WaitAsync",
        "System.Threading.Tasks.Task.WhenAll",
        "System.Threading.Tasks.Task.WhenAny",
        "System.IO.Stream.ReadAsync",
    };

    public static int Run(RunRequest request, TextWriter output)
    {
        var seeds = request.Seed is { } one ? [one] : Enumerable.Range(request.FirstSeed, request.Iterations).ToArray();
        var watch = Stopwatch.StartNew();
        var bugs = 0;
        var iterations = 0;
        long steps = 0;
        var uncontrolled = new HashSet<string>(StringComparer.Ordinal);
        output.WriteLine($"simulation scenario={request.Scenario.Name} seeds={seeds[0]}..{seeds[^1]} ({seeds.Length}): {request.Scenario.Description}");
        foreach (var seed in seeds)
        {
            var run = new SimulationRun(request.Scenario, seed);
            var configuration = Configure(seed, request.TracePath);
            // Verbose: Coyote's debug log, with the run's own log lines interleaved where they happened.
            using var coyoteLog = request.Verbose ? OpenLog(request, seed, "coyote.log") : TextWriter.Null;
            run.Log.Echo = request.Verbose ? coyoteLog : null;
            if (request.Verbose)
            {
                configuration = configuration.WithVerbosityEnabled(VerbosityLevel.Debug);
            }

            using var engine = TestingEngine.Create(configuration, run.RunAsync);
            engine.SetLogger(new TextWriterLogger(coyoteLog, request.Verbose ? VerbosityLevel.Debug : VerbosityLevel.None));
            engine.Run();
            iterations++;
            steps += engine.TestReport.TotalExploredFairSteps + engine.TestReport.TotalExploredUnfairSteps;
            uncontrolled.UnionWith(engine.TestReport.UncontrolledInvocations);
            if (request.Verbose)
            {
                output.WriteLine($"seed={seed} bugs={engine.TestReport.NumOfFoundBugs} steps={engine.TestReport.TotalExploredFairSteps + engine.TestReport.TotalExploredUnfairSteps}");
            }

            if (engine.TestReport.NumOfFoundBugs > 0)
            {
                bugs++;
                Report(request, seed, engine, run, output);
                if (bugs >= request.MaxBugs)
                {
                    break;
                }
            }
        }

        var elapsed = watch.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"simulation scenario={request.Scenario.Name} iterations={iterations} bugs={bugs} scheduling_steps={steps} elapsed={elapsed:F1}s iterations_per_second={iterations / Math.Max(elapsed, 0.001):F1}"));
        var unknown = uncontrolled.Except(KnownUncontrolled).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            output.WriteLine($"HARNESS: the engine now calls {string.Join(", ", unknown)}, which Coyote does not control: schedules may not replay. " +
                "Give it a controllable stand-in in Engine.Tests/Simulation/Harness/EngineShims (docs/design/simulation.md).");
            return 2;
        }

        return bugs > 0 ? 1 : 0;
    }

    private static Configuration Configure(int seed, string? tracePath)
    {
        var configuration = Configuration.Create()
            .WithTestingIterations(1)
            .WithRandomGeneratorSeed(unchecked((uint)seed))
            .WithTelemetryEnabled(false)
            .WithMaxSchedulingSteps(maxUnfairSteps: 20_000, maxFairSteps: 200_000)
            .WithDeadlockTimeout(10_000)
            .WithPotentialDeadlocksReportedAsBugs(true)
            // Volatile reads are not interleaving points: the oracle reads the engine's fencing state with one, and a
            // point there would let another task change it between the engine's check and the oracle's (a false
            // "put after it learned"). Interlocked operations, locks and awaits still are.
            .WithVolatileOperationRaceCheckingEnabled(false);
        configuration = (seed % 3) switch
        {
            0 => configuration.WithRandomStrategy(),
            1 => configuration.WithProbabilisticStrategy(3),
            _ => configuration.WithPrioritizationStrategy(isFair: true, priorityChangeBound: 10),
        };
        return tracePath is null ? configuration : configuration.WithReproducibleTrace(File.ReadAllText(tracePath));
    }

    private static StreamWriter OpenLog(RunRequest request, int seed, string extension)
    {
        Directory.CreateDirectory(request.OutputDirectory);
        return new StreamWriter(Path.Combine(request.OutputDirectory, $"{request.Scenario.Name}-seed{seed}.{extension}"));
    }

    private static string StrategyOf(int seed) => (seed % 3) switch
    {
        0 => "random",
        1 => "probabilistic",
        _ => "prioritization",
    };

    private static void Report(RunRequest request, int seed, TestingEngine engine, SimulationRun run, TextWriter output)
    {
        Directory.CreateDirectory(request.OutputDirectory);
        var stem = Path.Combine(request.OutputDirectory, $"{request.Scenario.Name}-seed{seed}");
        File.WriteAllText(stem + ".trace", engine.ReproducibleTrace);
        File.WriteAllLines(stem + ".log", run.Log.Lines);
        output.WriteLine($"BUG scenario={request.Scenario.Name} seed={seed} strategy={StrategyOf(seed)}");
        foreach (var report in engine.TestReport.BugReports)
        {
            output.WriteLine("  " + report.Replace("\n", "\n  ", StringComparison.Ordinal));
        }

        output.WriteLine($"  replay this iteration: SLATESHARP_SIM_SEED={seed} dotnet test Engine.Tests --filter \"FullyQualifiedName~Simulation&Name~{request.Scenario.Name}\"");
        output.WriteLine($"  replay the exact schedule: SLATESHARP_SIM_SEED={seed} SLATESHARP_SIM_TRACE={stem}.trace (same command)");
        output.WriteLine($"  coyote trace: {stem}.trace");
        output.WriteLine($"  run log: {stem}.log; its last steps:");
        output.WriteLine(run.Log.Tail(60));
    }
}
