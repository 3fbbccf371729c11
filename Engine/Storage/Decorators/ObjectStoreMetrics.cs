using System.Globalization;
using System.Text;

namespace SlateSharp.Storage.Decorators;

/// <summary>The kinds of store request that <see cref="ObjectStoreMetrics"/> counts.</summary>
internal enum RequestKind
{
    Get,
    Put,
    List,
    Delete,
    Head,
}

/// <summary>
/// Request counts by kind, bytes up and down, failures, and a latency histogram per kind, updated lock-free by
/// <see cref="InstrumentedObjectStore"/>. Histogram bucket i holds latencies below 2^i ms (the last bucket is open).
/// </summary>
internal sealed class ObjectStoreMetrics
{
    public const int BucketCount = 20;
    private static readonly int KindCount = Enum.GetValues<RequestKind>().Length;

    private readonly long[] _requests = new long[KindCount];
    private readonly long[] _failures = new long[KindCount];
    private readonly long[] _histogram = new long[KindCount * BucketCount];
    private long _bytesUp;
    private long _bytesDown;

    public long BytesUp => Interlocked.Read(ref _bytesUp);

    public long BytesDown => Interlocked.Read(ref _bytesDown);

    public long Requests(RequestKind kind) => Interlocked.Read(ref _requests[(int)kind]);

    public long Failures(RequestKind kind) => Interlocked.Read(ref _failures[(int)kind]);

    public long TotalRequests => Enum.GetValues<RequestKind>().Sum(Requests);

    /// <summary>Counts in latency bucket <paramref name="bucket"/> (latency below 2^bucket ms).</summary>
    public long LatencyCount(RequestKind kind, int bucket) => Interlocked.Read(ref _histogram[(int)kind * BucketCount + bucket]);

    /// <summary>
    /// An upper bound of the <paramref name="quantile"/> latency of <paramref name="kind"/> (the bucket bound it
    /// falls in), or null when no request of that kind was recorded.
    /// </summary>
    public TimeSpan? LatencyAtMost(RequestKind kind, double quantile)
    {
        var total = 0L;
        for (var b = 0; b < BucketCount; b++)
        {
            total += LatencyCount(kind, b);
        }

        if (total == 0)
        {
            return null;
        }

        var rank = (long)Math.Ceiling(quantile * total);
        var seen = 0L;
        for (var b = 0; b < BucketCount; b++)
        {
            seen += LatencyCount(kind, b);
            if (seen >= rank)
            {
                return TimeSpan.FromMilliseconds(1L << b);
            }
        }

        return TimeSpan.FromMilliseconds(1L << (BucketCount - 1));
    }

    public void Record(RequestKind kind, TimeSpan latency, bool failed)
    {
        Interlocked.Increment(ref _requests[(int)kind]);
        if (failed)
        {
            Interlocked.Increment(ref _failures[(int)kind]);
        }

        var ms = Math.Max(0, latency.TotalMilliseconds);
        var bucket = 0;
        while (bucket < BucketCount - 1 && ms >= 1L << bucket)
        {
            bucket++;
        }

        Interlocked.Increment(ref _histogram[(int)kind * BucketCount + bucket]);
    }

    public void AddBytesUp(long n) => Interlocked.Add(ref _bytesUp, n);

    public void AddBytesDown(long n) => Interlocked.Add(ref _bytesDown, n);

    /// <summary>One line per kind with requests, failures and p50/p99 bounds, then the byte totals.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var kind in Enum.GetValues<RequestKind>())
        {
            text.Append(CultureInfo.InvariantCulture, $"{kind.ToString().ToUpperInvariant()}: {Requests(kind)} requests, {Failures(kind)} failed");
            if (LatencyAtMost(kind, 0.5) is { } p50 && LatencyAtMost(kind, 0.99) is { } p99)
            {
                text.Append(CultureInfo.InvariantCulture, $", p50 <= {p50.TotalMilliseconds} ms, p99 <= {p99.TotalMilliseconds} ms");
            }

            text.AppendLine();
        }

        return text.Append(CultureInfo.InvariantCulture, $"bytes up {BytesUp}, bytes down {BytesDown}").ToString();
    }
}
