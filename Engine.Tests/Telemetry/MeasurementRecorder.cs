using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SlateSharp.Tests.Telemetry;

/// <summary>
/// Listens to every instrument of the SlateSharp meter and keeps the measurements tagged with one location, so tests
/// running side by side in the process do not see each other's figures.
/// </summary>
internal sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _recorded = new();
    private readonly ConcurrentDictionary<string, Instrument> _published = new();
    private string? _location;

    public MeasurementRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SlateSharpDiagnostics.Name)
            {
                _published[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Instruments of the SlateSharp meter seen so far, by name.</summary>
    public IReadOnlyDictionary<string, Instrument> Published => _published;

    /// <summary>Only measurements tagged with this location are kept from now on.</summary>
    public string Location
    {
        set => _location = value;
    }

    /// <summary>Asks every observable instrument for its current value now.</summary>
    public void Collect() => _listener.RecordObservableInstruments();

    public IReadOnlyList<Recorded> Of(string instrument, params (string Key, object Value)[] tags) =>
        [.. _recorded.Where(r => r.Instrument == instrument && tags.All(t => r.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)))];

    public double Sum(string instrument, params (string Key, object Value)[] tags) => Of(instrument, tags).Sum(r => r.Value);

    public int Count(string instrument, params (string Key, object Value)[] tags) => Of(instrument, tags).Count;

    /// <summary>The last value an observable instrument reported.</summary>
    public double Last(string instrument) => Of(instrument)[^1].Value;

    public void Clear() => _recorded.Clear();

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copied = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copied[tag.Key] = tag.Value;
        }

        if (_location is { } location && copied.TryGetValue(SlateSharpDiagnostics.LocationTag, out var tagged) && Equals(tagged, location))
        {
            _recorded.Enqueue(new Recorded(instrument.Name, value, copied));
        }
    }

    internal sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);
}
