namespace SlateSharp.Manifest;

/// <summary>
/// A manifest extension this build does not know (docs/format/manifest.md, "Extension area"), kept byte for byte so
/// that rewriting the manifest does not drop a field a newer build wrote. Only tags without the critical bit can be
/// kept: a reader refuses a manifest with an unknown critical tag.
/// </summary>
/// <param name="Tag">The tag as stored (u16, bit 15 = critical).</param>
/// <param name="Value">The value bytes, uninterpreted.</param>
internal sealed record ManifestExtension(ushort Tag, byte[] Value)
{
    public bool Equals(ManifestExtension? other) => other is not null && Tag == other.Tag && Value.AsSpan().SequenceEqual(other.Value);

    public override int GetHashCode() => HashCode.Combine(Tag, Value.Length);
}
