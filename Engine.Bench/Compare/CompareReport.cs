using System.Globalization;
using System.Text;
using System.Text.Json;
using SlateSharp.Bench.Peers;

namespace SlateSharp.Bench.Compare;

/// <summary>
/// The figures of a comparison: per workload, each engine's absolute figures as min – median – max over rounds, and
/// SlateSharp / peer as the spread of per-round ratios (above 1: SlateSharp does more ops/s).
/// </summary>
internal sealed class CompareReport(MachineInfo machine, IReadOnlyList<WorkloadSpec> specs, IReadOnlyList<WorkloadResult> results)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public MachineInfo Machine { get; } = machine;

    public IReadOnlyList<WorkloadResult> Results { get; } = results;

    /// <summary>One Markdown table per workload.</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Machine.Date:yyyy-MM-dd HH:mm} UTC, commit {Machine.Commit ?? "unknown"}, {Machine.Cores} cores, {Machine.Os}, {Machine.DotNet}");
        foreach (var spec in specs)
        {
            var rows = Results.Where(r => r.Workload == spec.Workload).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            var rounds = rows.Select(r => r.Round).Distinct().Count();
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"### {spec.Workload}: {spec.Describe()}; {rounds} round(s), min – median – max");
            text.AppendLine();
            text.AppendLine("| engine | ops/s | SlateSharp / engine (ops/s) | p50 µs | p99 µs | p99.9 µs | max µs | GC pause ms | allocated B/op | peak RSS MB |");
            text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            var ours = ByRound(rows, PeerEngines.SlateSharp);
            foreach (var engine in rows.Select(r => r.Engine).Distinct())
            {
                var mine = rows.Where(r => r.Engine == engine).ToList();
                var ratio = engine == PeerEngines.SlateSharp ? "1" : Spread.OfRatios(ours, ByRound(rows, engine)).Format("0.00");
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {engine} | {Spread.Of(mine.Select(r => r.OpsPerSecond)).Format("N0")} | {(ours.Count == 0 ? "–" : ratio)} | " +
                    $"{Spread.Of(mine.Select(r => r.P50Micros)).Format("0.0")} | {Spread.Of(mine.Select(r => r.P99Micros)).Format("0.0")} | " +
                    $"{Spread.Of(mine.Select(r => r.P999Micros)).Format("0")} | {Spread.Of(mine.Select(r => r.MaxMicros)).Format("0")} | {Spread.Of(mine.Select(r => r.Gc.PauseMillis)).Format("0")} | " +
                    $"{Spread.Of(mine.Select(r => r.Gc.AllocatedBytes / (double)Math.Max(1, r.Ops))).Format("0")} | " +
                    $"{Spread.Of(mine.Select(r => r.PeakRssBytes / 1e6)).Format("0")} |");
            }
        }

        return text.ToString();
    }

    public void WriteJson(string path)
    {
        var document = new
        {
            machine = Machine,
            workloads = specs.Select(s => new { name = s.Workload, settings = s.Describe(), spec = s }),
            results = Results.Select(r => new
            {
                engine = r.Engine,
                workload = r.Workload,
                round = r.Round,
                ops = r.Ops,
                seconds = r.Seconds,
                opsPerSecond = r.OpsPerSecond,
                p50Micros = r.P50Micros,
                p99Micros = r.P99Micros,
                p999Micros = r.P999Micros,
                maxMicros = r.MaxMicros,
                gcPauseMillis = r.Gc.PauseMillis,
                gcCollections = new { gen0 = r.Gc.Gen0, gen1 = r.Gc.Gen1, gen2 = r.Gc.Gen2 },
                allocatedBytes = r.Gc.AllocatedBytes,
                peakRssBytes = r.PeakRssBytes,
                peakHeapBytes = r.PeakHeapBytes,
                note = r.Note,
            }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, Json));
    }

    private static Dictionary<int, double> ByRound(IEnumerable<WorkloadResult> rows, string engine) =>
        rows.Where(r => r.Engine == engine).GroupBy(r => r.Round).ToDictionary(g => g.Key, g => g.Average(r => r.OpsPerSecond));
}
