namespace SlateSharp.Bench.Workloads;

/// <summary>
/// A log-linear latency histogram (32 linear sub-buckets per power of two, about 3% resolution) that any number of
/// threads record into without locks and without keeping every sample.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBuckets = 32;
    private readonly long[] _counts = new long[64 * SubBuckets];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(TimeSpan latency)
    {
        var ticks = Math.Max(1, latency.Ticks);
        Interlocked.Increment(ref _counts[Index(ticks)]);
        Interlocked.Increment(ref _total);
    }

    public TimeSpan Percentile(double quantile)
    {
        var target = (long)Math.Ceiling(quantile * Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= Math.Max(1, target))
            {
                return TimeSpan.FromTicks(UpperBound(i));
            }
        }

        return TimeSpan.Zero;
    }

    private static int Index(long ticks)
    {
        var magnitude = 63 - (int)long.LeadingZeroCount(ticks);
        if (magnitude < 5)
        {
            return (int)ticks;
        }

        var sub = (int)((ticks >> (magnitude - 5)) & (SubBuckets - 1));
        return ((magnitude - 4) * SubBuckets) + sub;
    }

    private static long UpperBound(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        var magnitude = (index / SubBuckets) + 4;
        var sub = index % SubBuckets;
        return ((long)(SubBuckets + sub + 1) << (magnitude - 5)) - 1;
    }
}
