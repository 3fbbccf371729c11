using System.Diagnostics;
using HdrHistogram;

namespace SlateSharp.Bench.Compare;

/// <summary>
/// Latencies of one worker in nanoseconds (HdrHistogram, 3 significant digits, up to 10 minutes), with the true
/// maximum kept apart: a histogram's max is the upper bound of its bucket, not a value that happened. One per worker,
/// merged after the run, so recording takes no lock.
/// </summary>
internal sealed class LatencyRecorder
{
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;
    private readonly LongHistogram _histogram = new(600L * 1_000_000_000, 3);

    public long MaxNanos { get; private set; }

    public long Count => _histogram.TotalCount;

    public void RecordSince(long startTimestamp)
    {
        var nanos = Math.Max(1, (long)((Stopwatch.GetTimestamp() - startTimestamp) * NanosPerTick));
        _histogram.RecordValue(Math.Min(nanos, _histogram.HighestTrackableValue));
        MaxNanos = Math.Max(MaxNanos, nanos);
    }

    public static LatencyRecorder Merge(IEnumerable<LatencyRecorder> parts)
    {
        var merged = new LatencyRecorder();
        foreach (var part in parts)
        {
            merged._histogram.Add(part._histogram);
            merged.MaxNanos = Math.Max(merged.MaxNanos, part.MaxNanos);
        }

        return merged;
    }

    /// <summary>The latency at <paramref name="percentile"/> (0–100) in microseconds; 0 when nothing was recorded.</summary>
    public double PercentileMicros(double percentile) => Count == 0 ? 0 : _histogram.GetValueAtPercentile(percentile) / 1000.0;

    public double MaxMicros => MaxNanos / 1000.0;
}
