using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace SlateSharp.Bench.Workloads;

/// <summary>
/// Object-store requests as an application sees them: through the public <c>slatesharp.store.*</c> instruments of
/// the <see cref="SlateSharpDiagnostics.Name"/> meter, for one store location. Counts, failures and true latency
/// percentiles per kind, and bytes up and down, across every database, compactor or reader that used the store while
/// this listened.
/// </summary>
internal sealed class StoreRequestListener : IDisposable
{
    private static readonly string[] Kinds = ["get", "put", "list", "delete", "head"];

    private readonly MeterListener _listener = new();
    private readonly string _location;
    private readonly ConcurrentDictionary<string, LatencyHistogram> _latency = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _failures = new(StringComparer.Ordinal);
    private long _bytesUp;
    private long _bytesDown;

    public StoreRequestListener(string location)
    {
        _location = location;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SlateSharpDiagnostics.Name && instrument.Name is "slatesharp.store.request.duration" or "slatesharp.store.bytes")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnDuration);
        _listener.SetMeasurementEventCallback<long>(OnBytes);
        _listener.Start();
    }

    public long BytesUp => Interlocked.Read(ref _bytesUp);

    public long BytesDown => Interlocked.Read(ref _bytesDown);

    /// <summary>Requests of <paramref name="kind"/> (<c>get</c>, <c>put</c>, <c>list</c>, <c>delete</c>, <c>head</c>).</summary>
    public long Requests(string kind) => _latency.TryGetValue(kind, out var h) ? h.Count : 0;

    public long Failures(string kind) => _failures.GetValueOrDefault(kind);

    public void Dispose() => _listener.Dispose();

    /// <summary>One line per kind seen: requests, failures, p50 and p99; then the bytes.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var kind in Kinds)
        {
            if (!_latency.TryGetValue(kind, out var histogram) || histogram.Count == 0)
            {
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"{kind.ToUpperInvariant()}: {histogram.Count} requests, {Failures(kind)} failed, ")
                .Append(CultureInfo.InvariantCulture, $"p50 {histogram.Percentile(0.5).TotalMilliseconds:0.0} ms, p99 {histogram.Percentile(0.99).TotalMilliseconds:0.0} ms")
                .AppendLine();
        }

        return text.Append(CultureInfo.InvariantCulture, $"bytes up {BytesUp}, bytes down {BytesDown}").ToString();
    }

    private void OnDuration(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (!IsMine(tags))
        {
            return;
        }

        var kind = Tag(tags, "kind") ?? "?";
        _latency.GetOrAdd(kind, _ => new LatencyHistogram()).Record(TimeSpan.FromSeconds(seconds));
        if (Tag(tags, "outcome") == "failed")
        {
            _failures.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }
    }

    private void OnBytes(Instrument instrument, long bytes, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (IsMine(tags))
        {
            Interlocked.Add(ref Tag(tags, "direction") == "up" ? ref _bytesUp : ref _bytesDown, bytes);
        }
    }

    private bool IsMine(ReadOnlySpan<KeyValuePair<string, object?>> tags) => Tag(tags, SlateSharpDiagnostics.LocationTag) == _location;

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
