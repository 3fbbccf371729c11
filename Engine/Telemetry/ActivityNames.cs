namespace SlateSharp.Telemetry;

/// <summary>The spans of the <see cref="SlateSharpDiagnostics.Name"/> activity source (docs/usage.md lists their tags).</summary>
internal static class ActivityNames
{
    public const string Open = "slatesharp.open";
    public const string OpenReader = "slatesharp.reader.open";
    public const string WalUpload = "slatesharp.wal.upload";
    public const string MemtableFlush = "slatesharp.memtable.flush";
    public const string ManifestUpdate = "slatesharp.manifest.update";
    public const string Compaction = "slatesharp.compaction";
    public const string GarbageCollection = "slatesharp.gc";
}
