using System.Globalization;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using SlateSharp.Storage;
using SlateSharp.Storage.S3;

namespace SlateSharp.Tests.Crash;

/// <summary>What the crash child does.</summary>
internal enum CrashWorkload
{
    /// <summary>Several writers, each on its own keys: puts, deletes and batches (durable or memtable-acknowledged), flushes.</summary>
    Writers,

    /// <summary>One writer putting new keys with memtable acknowledgements only, with a WAL or memtable flush now and then.</summary>
    Prefill,
}

/// <summary>
/// The crash child's command line (<c>crash-child --name=value ...</c>) and the database options it implies, which
/// the parent uses too when it reopens the database. The crash point is not here: the child reads it from
/// <see cref="CrashPointVariable"/>.
/// </summary>
internal sealed record CrashChildArgs
{
    public const string CrashPointVariable = "SLATESHARP_CRASH_POINT";

    public required string Url { get; init; }

    /// <summary>The S3 endpoint for an <c>s3://</c> URL (credentials test/testsecret, as on the test server).</summary>
    public string? S3Endpoint { get; init; }

    public required string LogPath { get; init; }

    public required int Seed { get; init; }

    public required int Cycle { get; init; }

    public CrashWorkload Workload { get; init; } = CrashWorkload.Writers;

    public int Writers { get; init; } = 4;

    public int KeysPerWriter { get; init; } = 48;

    /// <summary>Close the database (racing the writers) after this many operations in all; 0: never close.</summary>
    public int CloseAfterOps { get; init; }

    /// <summary>Close with two concurrent <c>CloseAsync</c> calls: each must report the outcome of the one close.</summary>
    public bool ConcurrentClose { get; init; }

    /// <summary>A child nobody killed gives up after this long (exit code <see cref="CrashChild.NotKilled"/>).</summary>
    public int MaxRunSeconds { get; init; } = 120;

    public int FlushIntervalMs { get; init; } = 10;

    public long MemtableBytes { get; init; } = 32 << 10;

    public long WalObjectBytes { get; init; } = 64 << 10;

    public long MaxUnflushedBytes { get; init; } = 1 << 20;

    public DbOptions DbOptions(int randomSeed, ILoggerFactory? loggers = null) => new()
    {
        LoggerFactory = loggers,
        FlushInterval = TimeSpan.FromMilliseconds(FlushIntervalMs),
        MemtableSizeBytes = MemtableBytes,
        WalObjectMaxBytes = WalObjectBytes,
        MaxUnflushedBytes = MaxUnflushedBytes,
        RandomSeed = randomSeed,
        ObjectStore = S3Endpoint is null ? null : new ObjectStoreOptions
        {
            S3 = new S3StoreOptions { Endpoint = S3Endpoint, Credentials = new BasicAWSCredentials("test", "testsecret") },
            LoggerFactory = loggers,
        },
    };

    public IReadOnlyList<string> ToArguments()
    {
        var arguments = new List<string>
        {
            CrashChild.Verb, $"--url={Url}", $"--log={LogPath}", I($"--seed={Seed}"), I($"--cycle={Cycle}"), $"--workload={Workload}",
            I($"--writers={Writers}"), I($"--keys={KeysPerWriter}"), I($"--close-after={CloseAfterOps}"), $"--concurrent-close={ConcurrentClose}",
            I($"--max-run={MaxRunSeconds}"),
            I($"--flush-interval-ms={FlushIntervalMs}"), I($"--memtable={MemtableBytes}"), I($"--wal-object={WalObjectBytes}"),
            I($"--max-unflushed={MaxUnflushedBytes}"),
        };
        if (S3Endpoint is not null)
        {
            arguments.Add($"--s3-endpoint={S3Endpoint}");
        }

        return arguments;
    }

    /// <summary>Parses the arguments after the verb.</summary>
    public static CrashChildArgs Parse(IEnumerable<string> arguments)
    {
        var values = new Dictionary<string, string>();
        foreach (var argument in arguments)
        {
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            if (!argument.StartsWith("--", StringComparison.Ordinal) || equals < 0)
            {
                throw new ArgumentException($"crash-child: expected --name=value, got '{argument}'");
            }

            values[argument[2..equals]] = argument[(equals + 1)..];
        }

        string Text(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"crash-child: --{name} is missing");
        long Number(string name) => long.Parse(Text(name), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return new CrashChildArgs
        {
            Url = Text("url"),
            S3Endpoint = values.GetValueOrDefault("s3-endpoint"),
            LogPath = Text("log"),
            Seed = (int)Number("seed"),
            Cycle = (int)Number("cycle"),
            Workload = Enum.Parse<CrashWorkload>(Text("workload")),
            Writers = (int)Number("writers"),
            KeysPerWriter = (int)Number("keys"),
            CloseAfterOps = (int)Number("close-after"),
            ConcurrentClose = bool.Parse(Text("concurrent-close")),
            MaxRunSeconds = (int)Number("max-run"),
            FlushIntervalMs = (int)Number("flush-interval-ms"),
            MemtableBytes = Number("memtable"),
            WalObjectBytes = Number("wal-object"),
            MaxUnflushedBytes = Number("max-unflushed"),
        };
    }

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
