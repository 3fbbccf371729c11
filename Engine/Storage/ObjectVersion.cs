namespace SlateSharp.Storage;

/// <summary>
/// An opaque token that changes whenever the object at a path is replaced (an S3 ETag, a GCS generation,
/// a file identity on a local disk). Only equality is meaningful.
/// </summary>
public readonly record struct ObjectVersion(string Token)
{
    /// <inheritdoc/>
    public override string ToString() => Token;
}
