namespace SlateSharp;

/// <summary>How a write is acknowledged.</summary>
public sealed class WriteOptions
{
    /// <summary>The default: wait until the write is stored in a WAL object.</summary>
    public static WriteOptions Default { get; } = new();

    /// <summary>Acknowledge as soon as the write is in the memtable (readable at once, durable at the next WAL upload).</summary>
    public static WriteOptions NoWait { get; } = new() { AwaitDurable = false };

    /// <summary>
    /// True (the default): return only after the write is in a stored WAL object, so a crash cannot lose it.
    /// False: return once it is in the memtable; a crash before the next WAL upload (at most the flush interval) loses it.
    /// </summary>
    public bool AwaitDurable { get; init; } = true;
}
