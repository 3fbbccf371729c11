namespace SlateSharp.Telemetry;

/// <summary>The gauges of one open database that the observable instruments read when a listener collects.</summary>
internal interface IObservedDatabase
{
    string Location { get; }

    long L0Ssts { get; }

    long SortedRuns { get; }

    long FrozenMemtables { get; }

    long UnflushedBytes { get; }

    long BlockCacheHits { get; }

    long BlockCacheMisses { get; }
}
