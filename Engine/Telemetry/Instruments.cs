using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SlateSharp.Telemetry;

/// <summary>
/// The meter and activity source named <see cref="SlateSharpDiagnostics.Name"/> and every instrument on them, made once
/// per process: a measurement says which database it belongs to by its <see cref="SlateSharpDiagnostics.LocationTag"/>
/// tag. Durations are in seconds and sizes in bytes, as OpenTelemetry's conventions ask. With no listener an
/// instrument's <c>Add</c> or <c>Record</c> costs a flag check.
/// </summary>
internal static class Instruments
{
    private static readonly string? Version = typeof(Instruments).Assembly.GetName().Version?.ToString();

    public static readonly Meter Meter = new(SlateSharpDiagnostics.Name, Version);

    public static readonly ActivitySource Source = new(SlateSharpDiagnostics.Name, Version);

    public static readonly Counter<long> Puts = Meter.CreateCounter<long>("slatesharp.db.puts", "{put}", "Keys set, one per put and per put in a batch.");

    public static readonly Counter<long> Deletes = Meter.CreateCounter<long>("slatesharp.db.deletes", "{delete}", "Keys deleted, one per delete and per delete in a batch.");

    public static readonly Counter<long> Merges = Meter.CreateCounter<long>("slatesharp.db.merges", "{merge}", "Merge operands written, one per merge and per merge in a batch.");

    public static readonly Counter<long> Batches = Meter.CreateCounter<long>("slatesharp.db.batches", "{batch}", "Write batches applied.");

    public static readonly Counter<long> BytesWritten = Meter.CreateCounter<long>("slatesharp.db.bytes_written", "By", "Key and value bytes of the puts, deletes and merges applied.");

    public static readonly Counter<long> Gets = Meter.CreateCounter<long>("slatesharp.db.gets", "{get}", "Point reads, tagged found=true|false.");

    public static readonly Counter<long> BytesRead = Meter.CreateCounter<long>("slatesharp.db.bytes_read", "By", "Value bytes returned by point reads and scans.");

    public static readonly Histogram<double> DurableWriteDuration = Meter.CreateHistogram<double>(
        "slatesharp.db.durable_write.duration", "s", "From a write that waits for durability being called to its acknowledgement.");

    public static readonly Histogram<double> WriterStallDuration = Meter.CreateHistogram<double>(
        "slatesharp.db.writer_stall.duration", "s", "Time a write waited because unflushed bytes reached MaxUnflushedBytes (reason=memory), or the flusher waited because L0 was full (reason=l0).");

    public static readonly Counter<long> WalUploads = Meter.CreateCounter<long>("slatesharp.wal.uploads", "{object}", "WAL objects stored.");

    public static readonly Counter<long> WalUploadBytes = Meter.CreateCounter<long>("slatesharp.wal.upload.bytes", "By", "Bytes of the WAL objects stored.");

    public static readonly Histogram<double> WalUploadDuration = Meter.CreateHistogram<double>(
        "slatesharp.wal.upload.duration", "s", "From a WAL object's upload starting to its being stored, retries and settling included.");

    public static readonly Counter<long> MemtableFlushes = Meter.CreateCounter<long>("slatesharp.memtable.flushes", "{sst}", "Memtables written to L0 and recorded in the manifest.");

    public static readonly Counter<long> MemtableFlushBytes = Meter.CreateCounter<long>("slatesharp.memtable.flush.bytes", "By", "Bytes of the L0 SSTs written by memtable flushes.");

    public static readonly Histogram<double> MemtableFlushDuration = Meter.CreateHistogram<double>(
        "slatesharp.memtable.flush.duration", "s", "From a memtable flush starting to its SST being recorded in the manifest.");

    public static readonly Counter<long> Compactions = Meter.CreateCounter<long>("slatesharp.compaction.jobs", "{job}", "Compaction jobs finished, tagged outcome=published|failed.");

    public static readonly Counter<long> CompactionBytes = Meter.CreateCounter<long>("slatesharp.compaction.bytes_written", "By", "Bytes of the SSTs written by compactions that were published.");

    public static readonly Histogram<double> CompactionDuration = Meter.CreateHistogram<double>(
        "slatesharp.compaction.duration", "s", "From a compaction job starting to its outcome.");

    public static readonly Counter<long> GcDeletions = Meter.CreateCounter<long>("slatesharp.gc.deletions", "{object}", "Objects the garbage collector deleted, tagged kind=sst|wal|manifest|lease.");

    public static readonly Counter<long> StoreRequests = Meter.CreateCounter<long>(
        "slatesharp.store.requests", "{request}", "Object-store requests, tagged kind=get|put|list|delete|head and outcome=ok|failed (each retry attempt counts).");

    public static readonly Histogram<double> StoreRequestDuration = Meter.CreateHistogram<double>(
        "slatesharp.store.request.duration", "s", "Object-store request latency, tagged kind and outcome.");

    public static readonly Counter<long> StoreBytes = Meter.CreateCounter<long>("slatesharp.store.bytes", "By", "Bytes moved to and from the object store, tagged direction=up|down.");

    static Instruments()
    {
        Meter.CreateObservableGauge("slatesharp.l0.ssts", () => ObservedDatabases.Measure(static g => g.L0Ssts), "{sst}", "L0 SSTs in the manifest the writer holds.");
        Meter.CreateObservableGauge("slatesharp.sorted_runs", () => ObservedDatabases.Measure(static g => g.SortedRuns), "{run}", "Sorted runs in the manifest the writer holds.");
        Meter.CreateObservableGauge("slatesharp.memtable.frozen", () => ObservedDatabases.Measure(static g => g.FrozenMemtables), "{memtable}", "Frozen memtables waiting to be written to L0.");
        Meter.CreateObservableUpDownCounter("slatesharp.db.unflushed_bytes", () => ObservedDatabases.Measure(static g => g.UnflushedBytes), "By", "Bytes of writes held in memory, bounded by MaxUnflushedBytes.");
        Meter.CreateObservableCounter("slatesharp.block_cache.hits", () => ObservedDatabases.Measure(static g => g.BlockCacheHits), "{read}", "Block reads served from the in-memory block cache.");
        Meter.CreateObservableCounter("slatesharp.block_cache.misses", () => ObservedDatabases.Measure(static g => g.BlockCacheMisses), "{read}", "Block reads that went to the store or the disk cache.");
    }

    /// <summary>Makes sure the observable instruments exist (the static constructor ran) before a listener looks.</summary>
    public static void EnsureCreated()
    {
    }
}
