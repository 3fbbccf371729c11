namespace SlateSharp.Leases;

/// <summary>
/// A reader's claim, outside the manifest, that it still reads the state of one manifest version: the garbage
/// collector keeps everything that manifest references until <see cref="ExpiresAt"/>. Stored at
/// <c>leases/{Id}.lease</c> (docs/format/lease.md); the reader renews it by overwriting and deletes it when it closes.
/// A lease that is never renewed expires by itself.
/// </summary>
/// <param name="Id">The reader's id.</param>
/// <param name="ManifestId">The manifest version the reader reads.</param>
/// <param name="ExpiresAt">When the lease stops protecting anything (Unix milliseconds).</param>
internal sealed record ReaderLease(Guid Id, ulong ManifestId, long ExpiresAt);
