using System.CommandLine;
using SlateSharp.Bench.Compare;

namespace SlateSharp.Bench.Cli;

/// <summary>The options shared by <c>run</c> and <c>compare</c> that shape a workload, and the spec they make.</summary>
internal sealed class WorkloadOptions
{
    public Option<long> Keys { get; } = Positive(new Option<long>("--keys") { Description = "keys written (default 200000)", DefaultValueFactory = _ => 200_000 });

    public Option<int> KeySize { get; } = AtLeast(new Option<int>("--key-size") { Description = "key bytes, at least 8 (default 16)", DefaultValueFactory = _ => 16 }, 8);

    public Option<int> ValueSize { get; } = AtLeast(new Option<int>("--value-size") { Description = "value bytes (default 100)", DefaultValueFactory = _ => 100 }, 0);

    public Option<int?> Writers { get; } = PositiveOrNull(new Option<int?>("--writers") { Description = "concurrent writers of fill (default 1) and durable (default 64)" });

    public Option<int> Batch { get; } = Positive(new Option<int>("--batch") { Description = "rows per write in fill; above 1 one atomic batch (default 1)", DefaultValueFactory = _ => 1 });

    public Option<string> Order { get; } = new Option<string>("--order") { Description = "fill key order: random or sequential (default random)", DefaultValueFactory = _ => "random" }.AcceptOnlyFromAmong("random", "sequential");

    public Option<string> Cache { get; } = new Option<string>("--cache") { Description = "reads: cold (reopen first) or warm (read every key once first) (default warm)", DefaultValueFactory = _ => "warm" }.AcceptOnlyFromAmong("cold", "warm");

    public Option<long?> Ops { get; } = PositiveOrNull(new Option<long?>("--ops") { Description = "gets measured by readrandom/readmissing (scans: a tenth) (default min(keys, 200000))" });

    public Option<int> ScanRows { get; } = Positive(new Option<int>("--scan-rows") { Description = "rows per scan (default 100)", DefaultValueFactory = _ => 100 });

    public Option<double> Duration { get; } = PositiveDouble(new Option<double>("--duration") { Description = "seconds that durable and mixed run (default 10)", DefaultValueFactory = _ => 10 });

    public Option<int?> Clients { get; } = PositiveOrNull(new Option<int?>("--clients") { Description = "closed-loop clients of the read workloads (default 1) and mixed (default 4)" });

    public Option<double> ReadRatio { get; } = Fraction(new Option<double>("--read-ratio") { Description = "mixed: fraction of operations that are gets (default 0.9)", DefaultValueFactory = _ => 0.9 });

    public Option<string> Dist { get; } = new Option<string>("--dist") { Description = "mixed: key distribution, uniform or zipfian (default uniform)", DefaultValueFactory = _ => "uniform" }.AcceptOnlyFromAmong("uniform", "zipfian");

    public Option<int> Seed { get; } = new("--seed") { Description = "seed of the random key choices (default 42)", DefaultValueFactory = _ => 42 };

    public Option<long> BlockCacheMib { get; } = AtLeast(new Option<long>("--block-cache-mib") { Description = "block (or page) cache of every engine that has one, MiB (default 64)", DefaultValueFactory = _ => 64 }, 0);

    public Option<long> MaxUnflushedMib { get; } = Positive(new Option<long>("--max-unflushed-mib") { Description = "SlateSharp: DbOptions.MaxUnflushedBytes, MiB, at least the 64 MiB memtable (default 1024)", DefaultValueFactory = _ => 1024 });

    public Option<string?> Dir { get; } = new("--dir") { Description = "parent directory of the engines' directories (default: the temp dir)" };

    public Option<bool> Keep { get; } = new("--keep") { Description = "keep the engines' directories" };

    public Option<string?> Json { get; } = new("--json") { Description = "write every figure and the machine to this JSON file" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Keys, KeySize, ValueSize, Writers, Batch, Order, Cache, Ops, ScanRows, Duration, Clients, ReadRatio, Dist, Seed, BlockCacheMib, MaxUnflushedMib, Dir, Keep, Json })
        {
            command.Options.Add(option);
        }
    }

    public WorkloadSpec Spec(ParseResult parsed, string workload) => new()
    {
        Workload = workload == "fill" && parsed.GetValue(Order) == "sequential" ? "fillseq" : workload,
        Keys = parsed.GetValue(Keys),
        KeySize = parsed.GetValue(KeySize),
        ValueSize = parsed.GetValue(ValueSize),
        Writers = parsed.GetValue(Writers),
        Batch = parsed.GetValue(Batch),
        RandomOrder = workload != "fillseq" && parsed.GetValue(Order) == "random",
        ColdCache = parsed.GetValue(Cache) == "cold",
        Ops = parsed.GetValue(Ops),
        ScanRows = parsed.GetValue(ScanRows),
        Duration = TimeSpan.FromSeconds(parsed.GetValue(Duration)),
        Clients = parsed.GetValue(Clients),
        ReadRatio = parsed.GetValue(ReadRatio),
        Zipfian = parsed.GetValue(Dist) == "zipfian",
        Seed = parsed.GetValue(Seed),
        CacheBytes = parsed.GetValue(BlockCacheMib) << 20,
        MaxUnflushedBytes = parsed.GetValue(MaxUnflushedMib) << 20,
    };

    public static Option<T> Positive<T>(Option<T> option)
        where T : struct, IComparable<T> => Check(option, (T v) => v.CompareTo(default) > 0, "must be at least 1");

    private static Option<T> AtLeast<T>(Option<T> option, int min)
        where T : struct, IComparable<T> => Check(option, (T v) => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) >= min, $"must be at least {min}");

    private static Option<T?> PositiveOrNull<T>(Option<T?> option)
        where T : struct, IComparable<T> => Check(option, (T? v) => v is not { } value || value.CompareTo(default) > 0, "must be at least 1");

    private static Option<double> PositiveDouble(Option<double> option) => Check(option, (double v) => v > 0, "must be positive");

    private static Option<double> Fraction(Option<double> option) => Check(option, (double v) => v is >= 0 and <= 1, "must be between 0 and 1");

    private static Option<T> Check<T>(Option<T> option, Func<T, bool> valid, string rule)
    {
        option.Validators.Add(result =>
        {
            // A token that did not convert already has its own error; reading the value would throw.
            if (result.Tokens.Count > 0 && result.Errors.Any())
            {
                return;
            }

            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return;
            }

            if (!valid(value))
            {
                result.AddError($"{option.Name} {rule} (got {value})");
            }
        });
        return option;
    }
}
