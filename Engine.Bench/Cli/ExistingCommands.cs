using System.CommandLine;

namespace SlateSharp.Bench.Cli;

/// <summary>
/// prefill-flush, ingest and objectstore under the same strict parser as run and compare, with exactly the options
/// they always had: System.CommandLine checks names and values (an unknown option or a bad number is a usage error,
/// exit 2, where the hand-written readers ignored the one and threw on the other), then the original arguments go
/// unchanged to the workload, which reads them as before. compactor and gc already reject unknown arguments with
/// exit 2 and keep their own readers (their durations, "30s", "1h", are theirs to parse).
/// </summary>
internal static class ExistingCommands
{
    public static IEnumerable<Command> All()
    {
        yield return PrefillFlush();
        yield return Ingest();
        yield return ObjectStore();
    }

    private static Command PrefillFlush()
    {
        var command = new Command("prefill-flush", "the main job: load keys, flush memtables and the WAL, read back (docs/benchmarks.md)")
        {
            new Option<string>("--url") { Description = "store (default: a new directory under the temp dir, removed afterwards unless --keep)" },
            WorkloadOptions.Positive(new Option<long>("--keys") { Description = "keys to write (default 1000000)" }),
            new Option<int>("--key-size") { Description = "key bytes, at least 8 (default 16)" },
            new Option<int>("--value-size") { Description = "value bytes (default 100)" },
            WorkloadOptions.Positive(new Option<int>("--concurrency") { Description = "writer tasks (default 4)" }),
            new Option<bool>("--durable") { Description = "wait for each write to be in the WAL (default: acknowledge from the memtable)" },
            WorkloadOptions.Positive(new Option<int>("--max-wal-uploads") { Description = "cap on WAL uploads per second (DbOptions.MaxWalUploadsPerSecond; default none)" }),
            new Option<long>("--memtable-mib") { Description = "memtable size, i.e. L0 SST size (default 64)" },
            new Option<long>("--max-unflushed-mib") { Description = "memory budget for unflushed writes (default 1024)" },
            new Option<string>("--compression") { Description = "none, lz4 or zstd (default none)" }.AcceptOnlyFromAmong("none", "lz4", "zstd"),
            new Option<int>("--seed") { Description = "key and value generator seed (default 42)" },
            new Option<long>("--verify") { Description = "read back N random keys at the end (default 10000)" },
            new Option<bool>("--keep") { Description = "keep the local directory" },
        };
        command.SetAction((parsed, _) => Workloads.PrefillFlushWorkload.RunAsync(Forwarded(parsed)));
        return command;
    }

    private static Command Ingest()
    {
        var command = new Command("ingest", "sustained ingest with overwrites and compaction (docs/benchmarks.md)")
        {
            new Option<string>("--url") { Description = "store (default: a new directory under the temp dir, removed afterwards unless --keep)" },
            WorkloadOptions.Positive(new Option<long>("--keys") { Description = "puts (default 10000000)" }),
            WorkloadOptions.Positive(new Option<long>("--key-space") { Description = "distinct keys the puts draw from (default keys / 2)" }),
            new Option<int>("--value-size") { Description = "value bytes (default 100; keys are 16 bytes)" },
            WorkloadOptions.Positive(new Option<int>("--concurrency") { Description = "writer tasks (default 4)" }),
            new Option<long>("--memtable-mib") { Description = "memtable size (default 64)" },
            new Option<long>("--reads") { Description = "random gets of old keys before and after compaction (default 20000)" },
            WorkloadOptions.Positive(new Option<int>("--subcompactions") { Description = "parallel key ranges per compaction job (default: processor count, at most 8)" }),
            new Option<int>("--seed") { Description = "generator seed (default 42)" },
            new Option<bool>("--keep") { Description = "keep the local directory" },
        };
        command.SetAction(async (parsed, _) =>
        {
            try
            {
                return await Workloads.IngestWorkload.RunAsync(Forwarded(parsed));
            }
            catch (SlateSharpException e)
            {
                parsed.InvocationConfiguration.Error.WriteLine($"ingest stopped ({e.Kind}{(e.CloseReason is { } reason ? "/" + reason : "")}): {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command ObjectStore()
    {
        var url = new Argument<string>("URL") { Description = "the store to measure (file://, s3://, gs://)" };
        var command = new Command("objectstore", "request latency and throughput of one store URL")
        {
            url,
            WorkloadOptions.Positive(new Option<int>("--requests") { Description = "requests per kind (default 200)" }),
            WorkloadOptions.Positive(new Option<int>("--large-mib") { Description = "size of the large object (default 256)" }),
            new Option<bool>("--skip-probe") { Description = "skip the commit-strategy probe" },
        };
        // The benchmark reads the URL as its first argument, wherever it was given.
        command.SetAction((parsed, _) =>
        {
            var given = parsed.GetValue(url)!;
            var rest = Forwarded(parsed).ToList();
            rest.Remove(given);
            return Stores.ObjectStoreBenchmark.RunAsync([given, .. rest]);
        });
        return command;
    }

    /// <summary>The arguments after the command name, exactly as given: the workloads read them themselves.</summary>
    private static string[] Forwarded(ParseResult parsed) => [.. parsed.Tokens.Skip(1).Select(t => t.Value)];
}
