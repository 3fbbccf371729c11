using System.Globalization;
using SlateSharp.Simulation;

// The simulation runner, run (rewritten by Coyote) by Engine.Tests/Simulation/SimulationTests.cs. Exit code 0: no bug
// found; 1: a bug was found (seed, trace and log printed); 2: bad arguments or a harness problem.
// Usage: SlateSharp.Simulation <scenario> [--iterations N] [--first-seed N] [--seed N] [--trace FILE] [--output DIR] [--max-bugs N] [--verbose]
// Each option defaults to its SLATESHARP_SIM_* environment variable: ITERATIONS, FIRST_SEED, SEED, TRACE, OUTPUT, MAX_BUGS, VERBOSE (1: Coyote's debug log goes to the output directory).
Environment.SetEnvironmentVariable("COYOTE_CLI_TELEMETRY_OPTOUT", "1");
using var probe = Environment.GetEnvironmentVariable("SLATESHARP_SIM_DEBUG_POOL") == "1" ? new PoolProbe() : null;
if (args.Length == 0 || Scenarios.Find(args[0]) is not { } scenario)
{
    Console.Error.WriteLine($"usage: SlateSharp.Simulation <{string.Join('|', Scenarios.All.Select(s => s.Name))}> [--iterations N] [--first-seed N] [--seed N] [--trace FILE] [--output DIR] [--max-bugs N]");
    return 2;
}

string? Option(string name, string variable)
{
    var at = Array.IndexOf(args, "--" + name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : Environment.GetEnvironmentVariable("SLATESHARP_SIM_" + variable) is { Length: > 0 } value ? value : null;
}

int? Number(string name, string variable) =>
    Option(name, variable) is { } text ? int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture) : null;

var request = new RunRequest(
    scenario,
    FirstSeed: Number("first-seed", "FIRST_SEED") ?? 1,
    Iterations: Number("iterations", "ITERATIONS") ?? 100,
    Seed: Number("seed", "SEED"),
    TracePath: Option("trace", "TRACE"),
    OutputDirectory: Option("output", "OUTPUT") ?? Path.Combine(Path.GetTempPath(), "slatesharp-simulation"),
    MaxBugs: Number("max-bugs", "MAX_BUGS") ?? 1,
    Verbose: args.Contains("--verbose") || Environment.GetEnvironmentVariable("SLATESHARP_SIM_VERBOSE") == "1");
return SimulationRunner.Run(request, Console.Out);
