namespace SlateSharp.Manifest;

/// <summary>Who holds a <see cref="FenceableManifest"/>: each role has its own epoch in the manifest.</summary>
internal enum ManifestRole
{
    /// <summary>The one process that writes the WAL and flushes memtables to L0.</summary>
    Writer,

    /// <summary>The one process that rewrites L0 and sorted runs.</summary>
    Compactor,
}
