using System.Diagnostics;

namespace SlateSharp.Bench.Compare;

/// <summary>
/// Samples the process's working set and managed heap every 50 ms on a thread of its own (so a busy thread pool
/// does not skew the interval), keeping the peak and every sample for the chart.
/// </summary>
internal sealed class MemoryTimeline : IDisposable
{
    private readonly Thread _thread;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(double Seconds, long Rss, long Heap)> _samples = [];
    private volatile bool _stop;

    public MemoryTimeline()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "memory-sampler" };
        _thread.Start();
    }

    public long PeakRss { get; private set; }

    public long PeakHeap { get; private set; }

    public IReadOnlyList<(double Seconds, long Rss, long Heap)> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>
    /// The peak working set in each of <paramref name="parts"/> equal spans of the run's time: a memory that stays
    /// bounded shows the same peaks late as early, one that grows shows them climb.
    /// </summary>
    public long[] PeakRssByPart(int parts)
    {
        var samples = Samples;
        var peaks = new long[parts];
        var end = samples.Count > 0 ? samples[^1].Seconds : 0;
        foreach (var (seconds, rss, _) in samples)
        {
            var part = end > 0 ? Math.Min(parts - 1, (int)(seconds / end * parts)) : 0;
            peaks[part] = Math.Max(peaks[part], rss);
        }

        return peaks;
    }

    public void Stop()
    {
        _stop = true;
        _thread.Join();
        Sample();
    }

    public void Dispose()
    {
        if (!_stop)
        {
            Stop();
        }
    }

    private void Run()
    {
        while (!_stop)
        {
            Sample();
            Thread.Sleep(50);
        }
    }

    private void Sample()
    {
        using var process = Process.GetCurrentProcess();
        var rss = process.WorkingSet64;
        var heap = GC.GetTotalMemory(false);
        lock (_samples)
        {
            PeakRss = Math.Max(PeakRss, rss);
            PeakHeap = Math.Max(PeakHeap, heap);
            _samples.Add((_clock.Elapsed.TotalSeconds, rss, heap));
        }
    }
}
