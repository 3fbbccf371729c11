namespace SlateSharp.Storage;

/// <summary>A put's condition and, optionally, a unique id the store records with the object.</summary>
/// <param name="Mode">The condition.</param>
/// <param name="PutId">
/// A caller-chosen unique id stored with the object where the store can (object metadata on S3 and GCS). A retried
/// conditional put uses it to recognise that its own earlier attempt landed.
/// </param>
public readonly record struct PutOptions(PutMode Mode, string? PutId = null)
{
    /// <summary>Lets a bare <see cref="PutMode"/> stand for options.</summary>
    public static implicit operator PutOptions(PutMode mode) => new(mode);
}
