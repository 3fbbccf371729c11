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
