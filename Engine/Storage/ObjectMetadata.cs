namespace SlateSharp.Storage;

/// <summary>What a store knows about one stored object.</summary>
/// <param name="Path">The object's path.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="Version">The token that <see cref="PutMode.IfVersionMatches"/> compares against.</param>
/// <param name="LastModified">When it was stored, as the store reports it.</param>
/// <param name="PutId">The <see cref="PutOptions.PutId"/> it was written with, where the store records it; otherwise null.</param>
public sealed record ObjectMetadata(
    ObjectPath Path,
    long Size,
    ObjectVersion Version,
    DateTimeOffset LastModified,
    string? PutId = null);
