using System.Globalization;
using Microsoft.Extensions.Logging;

namespace SlateSharp.Bench.Admin;

/// <summary>
/// <c>compactor --url URL [--once] [--min-sources 4] [--max-sources 8] [--size-ratio 4] [--target-sst-mb 64]
/// [--subcompactions N]</c>: the compactor of a database as its own process (docs/design/compaction.md). The writer
/// should then run with <c>CompactionOptions.Enabled = false</c>; a compactor started later (here or embedded in a
/// writer) fences this one. Runs until Ctrl+C or fenced unless <c>--once</c> (compact until nothing is due, then exit).
/// </summary>
internal static class CompactorCommand
{
    private const string Usage =
        "usage: SlateSharp.Bench compactor --url URL [--once] [--min-sources 4] [--max-sources 8] [--size-ratio 4] [--target-sst-mb 64] [--subcompactions N]\n" +
        "  s3 endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION";

    public static async Task<int> RunAsync(string[] args)
    {
        string? url = null;
        var once = false;
        var defaults = new CompactionOptions();
        var (min, max, ratio, target, subcompactions) = (defaults.MinSourcesPerJob, defaults.MaxSourcesPerJob, defaults.SizeRatio, defaults.TargetSstBytes, defaults.MaxSubcompactions);
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--url": url = Next(); break;
                    case "--once": once = true; break;
                    case "--min-sources": min = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                    case "--max-sources": max = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                    case "--size-ratio": ratio = double.Parse(Next(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture); break;
                    case "--target-sst-mb": target = long.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture) << 20; break;
                    case "--subcompactions": subcompactions = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                    default: throw new FormatException($"unknown argument {args[i]}");
                }
            }

            if (url is null)
            {
                throw new FormatException("--url is required");
            }
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        var options = new DbOptions
        {
            LoggerFactory = loggers,
            Compaction = new CompactionOptions { MinSourcesPerJob = min, MaxSourcesPerJob = max, SizeRatio = ratio, TargetSstBytes = target, MaxSubcompactions = subcompactions },
        };
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        try
        {
            await using var compactor = await DbCompactor.OpenAsync(url, options, stop.Token);
            Console.WriteLine($"compactor of {url} running as epoch {compactor.Epoch}{(once ? " until nothing is due" : " until Ctrl+C")}");
            if (once)
            {
                while (await compactor.RunOnceAsync(stop.Token))
                {
                }
            }
            else
            {
                await compactor.RunAsync(stop.Token);
            }

            Console.WriteLine(compactor.Stats);
            return 0;
        }
        catch (SlateSharpException e)
        {
            Console.Error.WriteLine($"compactor stopped ({e.Kind}{(e.CloseReason is { } r ? "/" + r : "")}): {e.Message}");
            return e.IsFenced ? 3 : 1;
        }
    }
}
