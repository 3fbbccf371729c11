namespace SlateSharp.Manifest;

/// <summary>A manifest together with the id it is stored under.</summary>
internal sealed record VersionedManifest(ulong Id, DbManifest Manifest);
