namespace SlateSharp;

/// <summary>
/// A checkpoint: a named pin on one manifest version, so the state it records stays readable (through
/// <see cref="DbReaderOptions.CheckpointId"/>) and garbage collection keeps everything it references until it expires
/// or is deleted. See docs/design/gc-and-readers.md.
/// </summary>
/// <param name="Id">The checkpoint's id, what <see cref="DbReaderOptions.CheckpointId"/> and <see cref="Db.DeleteCheckpointAsync"/> take.</param>
/// <param name="ManifestId">The manifest version it pins: it holds every write acknowledged before the checkpoint was created.</param>
/// <param name="ExpiresAt">When it stops pinning anything, or null for never (until deleted).</param>
/// <param name="Name">The label given at creation, if any.</param>
public sealed record DbCheckpoint(Guid Id, ulong ManifestId, DateTimeOffset? ExpiresAt, string? Name);
