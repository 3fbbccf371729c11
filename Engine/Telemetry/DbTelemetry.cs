using System.Diagnostics;

namespace SlateSharp.Telemetry;

/// <summary>
/// One database's (or store's) window onto <see cref="Instruments"/>: every measurement and span it makes carries
/// its location tag. Components made outside a database (tests, tools) use <see cref="Detached"/>.
/// </summary>
internal sealed class DbTelemetry(string location)
{
    private static readonly KeyValuePair<string, object?> Found = new("found", true);
    private static readonly KeyValuePair<string, object?> NotFound = new("found", false);
    private static readonly KeyValuePair<string, object?> MemoryStall = new("reason", "memory");
    private static readonly KeyValuePair<string, object?> L0Stall = new("reason", "l0");
    private static readonly KeyValuePair<string, object?> Published = new("outcome", "published");
    private static readonly KeyValuePair<string, object?> Failed = new("outcome", "failed");

    private readonly KeyValuePair<string, object?> _location = new(SlateSharpDiagnostics.LocationTag, location);

    /// <summary>For components that are not part of an open database: measurements carry an empty location.</summary>
    public static DbTelemetry Detached { get; } = new(string.Empty);

    public string Location => location;

    /// <summary>Whether anyone listens to durable-write latency: only then is the start of a write timed.</summary>
    public static bool TimesDurableWrites => Instruments.DurableWriteDuration.Enabled;

    public void Put(int bytes)
    {
        Instruments.Puts.Add(1, _location);
        Instruments.BytesWritten.Add(bytes, _location);
    }

    public void Delete(int bytes)
    {
        Instruments.Deletes.Add(1, _location);
        Instruments.BytesWritten.Add(bytes, _location);
    }

    public void Merge(int bytes)
    {
        Instruments.Merges.Add(1, _location);
        Instruments.BytesWritten.Add(bytes, _location);
    }

    public void Batch(int puts, int deletes, int merges, long bytes)
    {
        Instruments.Batches.Add(1, _location);
        if (merges > 0)
        {
            Instruments.Merges.Add(merges, _location);
        }

        if (puts > 0)
        {
            Instruments.Puts.Add(puts, _location);
        }

        if (deletes > 0)
        {
            Instruments.Deletes.Add(deletes, _location);
        }

        Instruments.BytesWritten.Add(bytes, _location);
    }

    public void DurableWrite(TimeSpan elapsed) => Instruments.DurableWriteDuration.Record(elapsed.TotalSeconds, _location);

    public void Get(bool found, int valueBytes)
    {
        Instruments.Gets.Add(1, _location, found ? Found : NotFound);
        if (valueBytes > 0)
        {
            Instruments.BytesRead.Add(valueBytes, _location);
        }
    }

    public void Scanned(int valueBytes) => Instruments.BytesRead.Add(valueBytes, _location);

    public void WriterStalled(TimeSpan elapsed) => Instruments.WriterStallDuration.Record(elapsed.TotalSeconds, _location, MemoryStall);

    public void FlusherStalled(TimeSpan elapsed) => Instruments.WriterStallDuration.Record(elapsed.TotalSeconds, _location, L0Stall);

    public void WalUploaded(long bytes, TimeSpan elapsed)
    {
        Instruments.WalUploads.Add(1, _location);
        Instruments.WalUploadBytes.Add(bytes, _location);
        Instruments.WalUploadDuration.Record(elapsed.TotalSeconds, _location);
    }

    public void MemtableFlushed(long bytes, TimeSpan elapsed)
    {
        Instruments.MemtableFlushes.Add(1, _location);
        Instruments.MemtableFlushBytes.Add(bytes, _location);
        Instruments.MemtableFlushDuration.Record(elapsed.TotalSeconds, _location);
    }

    public void Compacted(bool published, long bytes, TimeSpan elapsed)
    {
        var outcome = published ? Published : Failed;
        Instruments.Compactions.Add(1, _location, outcome);
        if (published)
        {
            Instruments.CompactionBytes.Add(bytes, _location);
        }

        Instruments.CompactionDuration.Record(elapsed.TotalSeconds, _location, outcome);
    }

    public void GcDeleted(string kind, long count)
    {
        if (count > 0)
        {
            Instruments.GcDeletions.Add(count, _location, new KeyValuePair<string, object?>("kind", kind));
        }
    }

    /// <summary>
    /// Called first in a background loop started while a span is current (the open span): its own spans then start
    /// traces of their own instead of hanging under a span that ended long ago.
    /// </summary>
    public static void DetachFromCaller() => Activity.Current = null;

    /// <summary>A span named <paramref name="name"/> tagged with the location, or null when nobody listens.</summary>
    public Activity? StartActivity(string name)
    {
        var activity = Instruments.Source.StartActivity(name, ActivityKind.Internal);
        activity?.SetTag(SlateSharpDiagnostics.LocationTag, location);
        return activity;
    }
}
