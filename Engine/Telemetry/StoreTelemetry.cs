using SlateSharp.Storage.Decorators;

namespace SlateSharp.Telemetry;

/// <summary>One store's object-store instruments: requests by kind and outcome, their latency, and bytes moved.</summary>
internal sealed class StoreTelemetry(string location)
{
    private static readonly KeyValuePair<string, object?>[] KindTags =
        [.. Enum.GetValues<RequestKind>().Select(k => new KeyValuePair<string, object?>("kind", k.ToString().ToLowerInvariant()))];

    private static readonly KeyValuePair<string, object?> Ok = new("outcome", "ok");
    private static readonly KeyValuePair<string, object?> Failed = new("outcome", "failed");
    private static readonly KeyValuePair<string, object?> Up = new("direction", "up");
    private static readonly KeyValuePair<string, object?> Down = new("direction", "down");

    private readonly KeyValuePair<string, object?> _location = new(SlateSharpDiagnostics.LocationTag, location);

    public void Request(RequestKind kind, TimeSpan elapsed, bool failed)
    {
        var kindTag = KindTags[(int)kind];
        var outcome = failed ? Failed : Ok;
        Instruments.StoreRequests.Add(1, _location, kindTag, outcome);
        Instruments.StoreRequestDuration.Record(elapsed.TotalSeconds, _location, kindTag, outcome);
    }

    public void BytesUp(long n)
    {
        if (n > 0)
        {
            Instruments.StoreBytes.Add(n, _location, Up);
        }
    }

    public void BytesDown(long n)
    {
        if (n > 0)
        {
            Instruments.StoreBytes.Add(n, _location, Down);
        }
    }
}
