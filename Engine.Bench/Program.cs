using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace SlateSharp.Bench;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && Cli.BenchCli.Commands.Contains(args[0]))
        {
            // Side-by-side benchmarks against peer engines (Cli/, Compare/, Peers/; docs/benchmarks.md), and prefill-flush,
            // ingest and objectstore under the same strict parser (Cli/ExistingCommands.cs).
            return await Cli.BenchCli.InvokeAsync(args, Console.Out, Console.Error);
        }

        if (args.Length == 0)
        {
            // The main job: load keys, then flush memtables and the WAL (Workloads/PrefillFlushWorkload.cs).
            return await Workloads.PrefillFlushWorkload.RunAsync([]);
        }

        if (args.Length > 0 && args[0] == "coldread")
        {
            // Cold point reads with and without the disk cache (Workloads/ColdReadWorkload.cs).
            return await Workloads.ColdReadWorkload.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "compactor")
        {
            // The compactor as its own process (Admin/CompactorCommand.cs).
            return await Admin.CompactorCommand.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "gc")
        {
            // Garbage collection of a database as its own process (Admin/GcCommand.cs).
            return await Admin.GcCommand.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "micro")
        {
            // BenchmarkDotNet micro-benchmarks (Micro/); the rest of the arguments go to its switcher, e.g. --filter '*Bloom*' --job short.
            // In-process: the project file (Engine.Bench.csproj) and assembly (SlateSharp.Bench) names differ, which the
            // default out-of-process toolchain cannot map back to a project. Asked for with the switcher's own
            // --inProcess, so --job still chooses the job: a config job marked as default would replace it silently.
            string[] micro = args.Contains("--inProcess", StringComparer.OrdinalIgnoreCase) ? args[1..] : [.. args[1..], "--inProcess"];
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(micro, DefaultConfig.Instance);
            return 0;
        }

        Console.Error.WriteLine("usage: SlateSharp.Bench [prefill-flush [options] | run --engine E --workload W [options] | compare [options] | ingest [options] | micro [BenchmarkDotNet arguments] | objectstore URL [options] | compactor --url URL [options] | gc --url URL [options]]");
        return 2;
    }
}
