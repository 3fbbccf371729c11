namespace SlateSharp.Format;

/// <summary>One write batch as stored in a WAL object: its rows in the order they were written.</summary>
/// <param name="Rows">The rows; keys and values alias the decoded object's bytes.</param>
internal sealed record WalBatch(IReadOnlyList<RowEntry> Rows);

/// <summary>
/// A decoded WAL object (docs/format/wal.md): a data object with its batches in write order, or a fence, either a
/// version 2 fence record or a version 1 zero-byte fence (accepted only where the manifest says a v1 writer may have
/// put one).
/// </summary>
internal sealed class WalObject
{
    private WalObject(WalObjectKind kind, ushort formatVersion, ulong? writerEpoch, IReadOnlyList<WalBatch> batches)
    {
        Kind = kind;
        FormatVersion = formatVersion;
        WriterEpoch = writerEpoch;
        Batches = batches;
    }

    /// <summary>A version 1 fence: a zero-byte object, which records no epoch.</summary>
    public static WalObject V1Fence { get; } = new(WalObjectKind.Fence, 1, null, []);

    public WalObjectKind Kind { get; }

    public bool IsFence => Kind == WalObjectKind.Fence;

    /// <summary>The WAL format version the object was written in (data objects 1 to 3, fences 1 or 2).</summary>
    public ushort FormatVersion { get; }

    /// <summary>
    /// The epoch of the writer that wrote the object (for a fence: the new writer that placed it); null for version 1
    /// objects, which do not record it.
    /// </summary>
    public ulong? WriterEpoch { get; }

    /// <summary>The batches in the order they were appended (empty for a fence).</summary>
    public IReadOnlyList<WalBatch> Batches { get; }

    /// <summary>A version 2 fence record placed by the writer of epoch <paramref name="writerEpoch"/>.</summary>
    public static WalObject Fence(ulong writerEpoch) => new(WalObjectKind.Fence, WalObjectCodec.FenceVersion, writerEpoch, []);

    /// <summary>A data object holding <paramref name="batches"/>; <paramref name="writerEpoch"/> is null for version 1.</summary>
    public static WalObject Data(ushort formatVersion, ulong? writerEpoch, IReadOnlyList<WalBatch> batches) =>
        new(WalObjectKind.Data, formatVersion, writerEpoch, batches);
}
