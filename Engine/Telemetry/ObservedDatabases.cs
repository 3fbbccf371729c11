using System.Diagnostics.Metrics;

namespace SlateSharp.Telemetry;

/// <summary>
/// The open databases whose gauges the process-wide observable instruments report, one measurement per database
/// tagged with its location. A database joins when it opens and leaves when it stops.
/// </summary>
internal static class ObservedDatabases
{
    private static readonly Lock Gate = new();
    private static IObservedDatabase[] _open = [];

    public static IDisposable Add(IObservedDatabase database)
    {
        Instruments.EnsureCreated();
        lock (Gate)
        {
            _open = [.. _open, database];
        }

        return new Removal(database);
    }

    public static IEnumerable<Measurement<long>> Measure(Func<IObservedDatabase, long> gauge)
    {
        var open = Volatile.Read(ref _open);
        var measurements = new Measurement<long>[open.Length];
        for (var i = 0; i < open.Length; i++)
        {
            measurements[i] = new Measurement<long>(gauge(open[i]), new KeyValuePair<string, object?>(SlateSharpDiagnostics.LocationTag, open[i].Location));
        }

        return measurements;
    }

    private sealed class Removal(IObservedDatabase database) : IDisposable
    {
        private int _removed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _removed, 1) != 0)
            {
                return;
            }

            lock (Gate)
            {
                _open = [.. _open.Where(d => !ReferenceEquals(d, database))];
            }
        }
    }
}
