using System.CommandLine;
using SlateSharp.Bench.Compare;
using SlateSharp.Bench.Peers;

namespace SlateSharp.Bench.Cli;

/// <summary>
/// The <c>run</c> and <c>compare</c> commands (System.CommandLine). Strict: an unknown option or a bad value prints one
/// line naming it and the usage, and exits with 2 — never a stack trace. A workload that fails exits with 1 and one
/// line naming the engine and the error.
/// </summary>
internal static class BenchCli
{
    public const int UsageError = 2;

    public static IReadOnlySet<string> Commands { get; } = new HashSet<string> { "run", "compare", "prefill-flush", "ingest", "objectstore" };

    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build(output);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command;
            error.WriteLine($"error: {OneLine(parsed.Errors[0].Message)}");
            error.WriteLine(Usage(command));
            return UsageError;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
    }

    /// <summary>System.CommandLine lists allowed values one per line; an operator reads one line.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.ReplaceLineEndings("\n").Split(['\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static string Usage(Command command) => command.Name switch
    {
        "run" => "usage: SlateSharp.Bench run --engine NAME --workload NAME [options]   ('run --help' lists the options)",
        "compare" => "usage: SlateSharp.Bench compare [--engines a,b] [--workloads a,b] [--rounds N] [options]   ('compare --help' lists the options)",
        "prefill-flush" or "ingest" => $"usage: SlateSharp.Bench {command.Name} [options]   ('{command.Name} --help' lists the options)",
        "objectstore" => "usage: SlateSharp.Bench objectstore URL [--requests N] [--large-mib N] [--skip-probe]",
        _ => "usage: SlateSharp.Bench run|compare|prefill-flush|ingest|objectstore [options]   ('COMMAND --help')",
    };

    private static RootCommand Build(TextWriter output)
    {
        var root = new RootCommand("SlateSharp side-by-side benchmarks");
        root.Subcommands.Add(RunCommand(output));
        root.Subcommands.Add(CompareCommand(output));
        foreach (var command in ExistingCommands.All())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    private static Command RunCommand(TextWriter output)
    {
        var engine = new Option<string>("--engine") { Description = $"one of {string.Join(", ", PeerEngines.Names)}", Required = true }.AcceptOnlyFromAmong([.. PeerEngines.Names]);
        var workload = new Option<string>("--workload") { Description = $"one of {string.Join(", ", WorkloadSpec.Names)}", Required = true }.AcceptOnlyFromAmong([.. WorkloadSpec.Names]);
        var chart = new Option<string?>("--chart") { Description = "write RSS and managed heap over the run to this .png or .svg" };
        var shared = new WorkloadOptions();
        var command = new Command("run", "run one workload on one engine") { engine, workload, chart };
        shared.AddTo(command);
        command.SetAction(async (parsed, _) =>
        {
            var spec = shared.Spec(parsed, parsed.GetValue(workload)!);
            var name = parsed.GetValue(engine)!;
            using var runs = new RunDirectories(parsed.GetValue(shared.Dir), parsed.GetValue(shared.Keep));
            using var timeline = new MemoryTimeline();
            output.WriteLine($"{spec.Workload} on {name}: {spec.Describe()}");
            var result = await WorkloadRunner.RunAsync(name, spec, runs.For(name, spec.Workload, 0), 0, timeline);
            var report = new CompareReport(MachineInfo.Current(), [spec], [result]);
            output.WriteLine(report.ToMarkdown());
            if (result.Note is { } note)
            {
                output.WriteLine($"{name}: {note}");
            }

            var memory = $"block cache {spec.CacheBytes >> 20} MiB" + (name == PeerEngines.SlateSharp ? $", MaxUnflushedBytes {spec.MaxUnflushedBytes >> 20} MiB" : "");
            var quarters = string.Join(" / ", timeline.PeakRssByPart(4).Select(b => $"{b / 1e6:0}"));
            output.WriteLine($"memory: {memory}; peak RSS {timeline.PeakRss / 1e6:0} MB (by quarter of the run: {quarters} MB), peak managed heap {timeline.PeakHeap / 1e6:0} MB");
            if (parsed.GetValue(chart) is { } chartPath)
            {
                var title = $"{name} {spec.Workload}: {spec.Describe()}\n{spec.KeySize} B keys, {spec.ValueSize:N0} B values, {memory}";
                MemoryChart.Write(chartPath, title, timeline.Samples);
                output.WriteLine($"chart: {chartPath} ({timeline.Samples.Count} samples)");
            }

            if (parsed.GetValue(shared.Json) is { } json)
            {
                report.WriteJson(json);
            }

            return 0;
        });
        return command;
    }

    private static Command CompareCommand(TextWriter output)
    {
        var engines = ListOption("--engines", "engines, comma-separated (default all)", PeerEngines.Names);
        var workloads = ListOption("--workloads", "workloads, comma-separated (default all)", WorkloadSpec.Names);
        var rounds = WorkloadOptions.Positive(new Option<int>("--rounds") { Description = "rounds; each runs every engine in turn on a fresh directory (default 3)", DefaultValueFactory = _ => 3 });
        var noWarmUp = new Option<bool>("--no-warmup") { Description = "skip the uncounted warm-up round (it lets the JIT compile the managed engines before round 1)" };
        var shared = new WorkloadOptions();
        var command = new Command("compare", "run workloads on several engines in alternating rounds and print ratios") { engines, workloads, rounds, noWarmUp };
        shared.AddTo(command);
        command.SetAction(async (parsed, _) =>
        {
            var names = parsed.GetValue(engines) ?? PeerEngines.Names;
            var specs = (parsed.GetValue(workloads) ?? WorkloadSpec.Names).Select(w => shared.Spec(parsed, w)).ToList();
            using var runs = new RunDirectories(parsed.GetValue(shared.Dir), parsed.GetValue(shared.Keep));
            var results = await CompareRunner.RunAsync(names, specs, parsed.GetValue(rounds), !parsed.GetValue(noWarmUp), runs, output);
            var report = new CompareReport(MachineInfo.Current(), specs, results);
            output.WriteLine();
            output.WriteLine(report.ToMarkdown());
            if (parsed.GetValue(shared.Json) is { } json)
            {
                report.WriteJson(json);
                output.WriteLine($"json: {json}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>A comma-separated list whose every item must be one of <paramref name="known"/>.</summary>
    private static Option<IReadOnlyList<string>?> ListOption(string name, string description, IReadOnlyList<string> known) => new(name)
    {
        Description = $"{description}: {string.Join(",", known)}",
        CustomParser = result =>
        {
            var items = result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var unknown = items.FirstOrDefault(i => !known.Contains(i));
            if (unknown is not null || items.Count == 0)
            {
                result.AddError($"{name}: '{unknown ?? ""}' is not one of {string.Join(",", known)}");
                return null;
            }

            return items.Distinct().ToList();
        },
    };
}
