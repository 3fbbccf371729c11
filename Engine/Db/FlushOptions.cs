namespace SlateSharp;

/// <summary>What <see cref="Db.FlushAsync(FlushOptions?, CancellationToken)"/> makes durable.</summary>
public enum FlushKind
{
    /// <summary>Upload buffered writes as a WAL object (the default).</summary>
    Wal,

    /// <summary>Freeze the memtable and write every memtable to L0 SSTs, recorded in the manifest.</summary>
    Memtable,
}

/// <summary>Options for <see cref="Db.FlushAsync(FlushOptions?, CancellationToken)"/>.</summary>
public sealed class FlushOptions
{
    /// <summary>What to flush. Default <see cref="FlushKind.Wal"/>.</summary>
    public FlushKind Kind { get; init; } = FlushKind.Wal;
}
