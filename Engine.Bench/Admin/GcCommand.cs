using System.Globalization;
using Microsoft.Extensions.Logging;
using SlateSharp.Storage;

namespace SlateSharp.Bench.Admin;

/// <summary>
/// <c>gc --url URL [--dry-run] [--once] [--interval 60s] [--sst-min-age 1h] [--manifest-min-age 1h] [--manifests-kept 10]
/// [--wal-min-age 10m] [--fence-min-age 24h] [--lease-grace 1h]</c>: garbage collection of a database as its own
/// process (docs/design/gc-and-readers.md), printing each pass's report. Runs until Ctrl+C unless <c>--once</c>.
/// </summary>
internal static class GcCommand
{
    private const string Usage =
        "usage: SlateSharp.Bench gc --url URL [--dry-run] [--once] [--interval 60s] [--sst-min-age 1h] [--manifest-min-age 1h] " +
        "[--manifests-kept 10] [--wal-min-age 10m] [--fence-min-age 24h] [--lease-grace 1h]\n" +
        "  durations: 500ms, 30s, 10m, 1h, 2d; s3 endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION";

    public static async Task<int> RunAsync(string[] args)
    {
        string? url = null;
        var defaults = new GcOptions();
        var once = false;
        var dryRun = false;
        TimeSpan? interval = null;
        var (sst, manifest, wal, fence, lease, kept) =
            (defaults.SstMinAge, defaults.ManifestMinAge, defaults.WalMinAge, defaults.FenceMinAge, defaults.LeaseGrace, defaults.ManifestsKept);
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--url": url = Next(); break;
                    case "--once": once = true; break;
                    case "--dry-run": dryRun = true; break;
                    case "--interval": interval = Duration(Next()); break;
                    case "--sst-min-age": sst = Duration(Next()); break;
                    case "--manifest-min-age": manifest = Duration(Next()); break;
                    case "--wal-min-age": wal = Duration(Next()); break;
                    case "--fence-min-age": fence = Duration(Next()); break;
                    case "--lease-grace": lease = Duration(Next()); break;
                    case "--manifests-kept": kept = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
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

        var options = new GcOptions
        {
            SstMinAge = sst,
            ManifestMinAge = manifest,
            ManifestsKept = kept,
            WalMinAge = wal,
            FenceMinAge = fence,
            LeaseGrace = lease,
            DryRun = dryRun,
            Interval = interval,
        };
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var storeOptions = new ObjectStoreOptions { LoggerFactory = loggers };
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        try
        {
            if (once)
            {
                Console.WriteLine(await DbGarbageCollector.RunOnceAsync(url, options, storeOptions, stop.Token));
                return 0;
            }

            Console.WriteLine($"collecting {url} every {options.Interval ?? DbGarbageCollector.DefaultInterval} until Ctrl+C{(dryRun ? " (dry run)" : string.Empty)}");
            await DbGarbageCollector.RunAsync(url, options, storeOptions, report => Console.WriteLine(report), stop.Token);
            return 0;
        }
        catch (SlateSharpException e)
        {
            Console.Error.WriteLine($"gc failed ({e.Kind}): {e.Message}");
            return 1;
        }
    }

    /// <summary>Parses <c>500ms</c>, <c>30s</c>, <c>10m</c>, <c>1h</c>, <c>2d</c>.</summary>
    internal static TimeSpan Duration(string text)
    {
        var (digits, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], "ms") : (text[..^1], text[^1..]);
        if (text.Length < 2 || !double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
        {
            throw new FormatException($"not a duration: {text} (use 500ms, 30s, 10m, 1h or 2d)");
        }

        return unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => throw new FormatException($"not a duration: {text} (use 500ms, 30s, 10m, 1h or 2d)"),
        };
    }
}
