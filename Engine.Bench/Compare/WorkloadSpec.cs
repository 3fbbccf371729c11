namespace SlateSharp.Bench.Compare;

/// <summary>What one workload run does; the same spec is given to every engine of a comparison.</summary>
internal sealed record WorkloadSpec
{
    /// <summary>fill, fillseq, readrandom, readmissing, scan, durable or mixed.</summary>
    public required string Workload { get; init; }

    public long Keys { get; init; } = 200_000;

    public int KeySize { get; init; } = 16;

    public int ValueSize { get; init; } = 100;

    /// <summary>Concurrent writers of fill (default 1) and durable (default 64, see <see cref="WritersOrDefault"/>).</summary>
    public int? Writers { get; init; }

    /// <summary>Rows per write of fill: 1 is one put per row, more is one atomic batch.</summary>
    public int Batch { get; init; } = 1;

    /// <summary>fill only: false writes keys in ascending order (fillseq).</summary>
    public bool RandomOrder { get; init; } = true;

    /// <summary>Reads: true reopens the engine before measuring, false reads every key once first.</summary>
    public bool ColdCache { get; init; }

    /// <summary>Operations measured by the read workloads; default <see cref="Keys"/> (capped at 200,000).</summary>
    public long? Ops { get; init; }

    public int ScanRows { get; init; } = 100;

    /// <summary>durable and mixed run for this long.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Closed-loop clients of the read workloads (default 1) and mixed (default 4).</summary>
    public int? Clients { get; init; }

    public double ReadRatio { get; init; } = 0.9;

    public bool Zipfian { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Block (or page) cache of every engine that has one (<see cref="Peers.PeerOptions.CacheBytes"/>).</summary>
    public long CacheBytes { get; init; } = 64L << 20;

    /// <summary>SlateSharp only: <see cref="DbOptions.MaxUnflushedBytes"/>.</summary>
    public long MaxUnflushedBytes { get; init; } = 1L << 30;

    public static IReadOnlyList<string> Names { get; } = ["fill", "fillseq", "readrandom", "readmissing", "scan", "durable", "mixed", "open"];

    public int WritersOrDefault => Writers ?? (Workload == "durable" ? 64 : 1);

    public int ClientsOrDefault => Clients ?? (Workload == "mixed" ? 4 : 1);

    public long OpsOrDefault => Ops ?? (Workload == "open" ? 50 : Math.Min(Keys, 200_000));

    public bool IsFill => Workload is "fill" or "fillseq";

    /// <summary>A short description of the settings that shape the figures, for the report.</summary>
    public string Describe() => Workload switch
    {
        "fill" or "fillseq" => $"{Keys:N0} keys {(Workload == "fillseq" || !RandomOrder ? "ascending" : "random order")}, {WritersOrDefault} writer(s), batch {Batch}, acknowledged without fsync",
        "readrandom" => $"{OpsOrDefault:N0} gets of written keys after flush to files, {(ColdCache ? "cold (reopened)" : "warm (all read once)")} cache, {ClientsOrDefault} client(s)",
        "readmissing" => $"{OpsOrDefault:N0} gets of keys never written, {ClientsOrDefault} client(s)",
        "scan" => $"{OpsOrDefault / 10:N0} scans of {ScanRows} rows from random keys, {ClientsOrDefault} client(s)",
        "durable" => $"{WritersOrDefault} writers, each put waits for durability, {Duration.TotalSeconds:0} s",
        "mixed" => $"{ClientsOrDefault} closed-loop clients, {ReadRatio:P0} reads, {(Zipfian ? "zipfian" : "uniform")} keys over {Keys:N0}, acknowledged writes, {Duration.TotalSeconds:0} s",
        "open" => $"{OpsOrDefault:N0} opens of an empty database, each in a fresh directory (closing not timed)",
        _ => Workload,
    };
}
