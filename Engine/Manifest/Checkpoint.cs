namespace SlateSharp.Manifest;

/// <summary>A named pin on a manifest version: the GC keeps everything it references until it expires.</summary>
/// <param name="Id">Unique id of the checkpoint.</param>
/// <param name="ManifestId">The manifest version it pins.</param>
/// <param name="CreatedAt">When it was created (Unix milliseconds).</param>
/// <param name="ExpiresAt">When it stops pinning (Unix milliseconds), or null for never.</param>
/// <param name="Name">An optional label.</param>
internal sealed record Checkpoint(Guid Id, ulong ManifestId, long CreatedAt, long? ExpiresAt, string? Name);
