namespace SlateSharp.Bench.Compare;

/// <summary>The figures of one engine running one workload once. Latencies in microseconds, memory in bytes.</summary>
internal sealed record WorkloadResult
{
    public required string Engine { get; init; }

    public required string Workload { get; init; }

    public int Round { get; init; }

    public long Ops { get; init; }

    public double Seconds { get; init; }

    public double OpsPerSecond => Seconds > 0 ? Ops / Seconds : 0;

    public double P50Micros { get; init; }

    public double P99Micros { get; init; }

    public double P999Micros { get; init; }

    /// <summary>The slowest operation as timed, not a histogram bucket bound.</summary>
    public double MaxMicros { get; init; }

    /// <summary>This process's garbage collections while the workload was timed (the peers' native engines collect none of their own).</summary>
    public GcActivity Gc { get; init; }

    public long PeakRssBytes { get; init; }

    public long PeakHeapBytes { get; init; }

    /// <summary>Engine-specific notes (e.g. WAL objects per durable put), or null.</summary>
    public string? Note { get; init; }
}
