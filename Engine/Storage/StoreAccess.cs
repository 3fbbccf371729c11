namespace SlateSharp.Storage;

/// <summary>What a store is opened for, which decides what opening checks.</summary>
internal enum StoreAccess
{
    /// <summary>Everything: opening proves the store can do create-if-absent (a commit probe, a conditional-write probe).</summary>
    ReadWrite,

    /// <summary>Reads only: no probes, and every put or delete fails with <see cref="ErrorKind.Invalid"/>.</summary>
    ReadOnly,

    /// <summary>
    /// Reads, plain overwrites and deletes, which need no commit strategy: no probes at open, nothing written besides
    /// what the caller writes. What a <c>DbReader</c> needs for its lease (docs/design/gc-and-readers.md). A
    /// local store refuses conditional puts in this mode; a cloud store sends them unverified.
    /// </summary>
    OverwritesOnly,
}
