using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Simulation;

/// <summary>
/// Systematic interleavings under Coyote (docs/design/simulation.md): each scenario runs the Coyote-rewritten harness
/// in Simulation/Harness for a bounded number of iterations, each iteration one seeded, replayable schedule of users,
/// the WAL task, the flusher, closes and a second writer, with faults injected into the store and invariants checked
/// at every request and after an honest reopen. A failure prints the seed, Coyote's trace and the run's log.
/// SLATESHARP_SIM_ITERATIONS runs more iterations per scenario, SLATESHARP_SIM_FIRST_SEED moves the seed range,
/// SLATESHARP_SIM_SEED replays one iteration, SLATESHARP_SIM_TRACE (with its seed) replays one exact schedule.
/// </summary>
[TestFixture]
[Category("Simulation")]
public sealed class SimulationTests
{
    /// <summary>Iterations per scenario in a normal run: 150 in all, one to two minutes on the 2-core CI machine.</summary>
    private const int DefaultIterations = 25;

    /// <summary>A scenario whose run takes longer than this is killed and fails (Coyote reports hangs itself, much sooner).</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(20);

    public static IEnumerable<string> Scenarios { get; } = ["NoFaults", "LostAnswers", "OwnCreateExists", "FalseExists", "ConcurrentClose", "Mixed"];

    [TestCaseSource(nameof(Scenarios))]
    public void No_interleaving_loses_an_acknowledged_write_or_breaks_an_invariant(string scenario)
    {
        var harness = typeof(SimulationTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "SimulationHarness").Value!;
        if (!File.Exists(harness))
        {
            TestEnvironment.Missing($"the Coyote-rewritten simulation harness ({harness}; built with Engine.Tests, needs the Coyote CLI from NuGet)");
        }

        var iterations = TestEnvironment.Get("SLATESHARP_SIM_ITERATIONS") ?? DefaultIterations.ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { harness, scenario, "--iterations", iterations },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"the simulation of {scenario} did not finish within {Limit}:\n{output}");
        }

        process.WaitForExit();
        TestContext.Out.WriteLine(output.ToString());
        var bugs = string.Join('\n', output.ToString().Split('\n').Where(l => l.StartsWith("BUG", StringComparison.Ordinal) || (l.StartsWith("  ", StringComparison.Ordinal) && !l.StartsWith("    ", StringComparison.Ordinal))));
        Assert.That(process.ExitCode, Is.EqualTo(0),
            $"the simulation of {scenario} found a bug (exit code 1) or a harness problem (2); the full output with each run's log is above:\n{bugs}");
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }
}
