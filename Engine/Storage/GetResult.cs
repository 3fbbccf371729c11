namespace SlateSharp.Storage;

/// <summary>The bytes of a ranged read and the object they came from.</summary>
/// <param name="Metadata">The object read; <see cref="ObjectMetadata.Size"/> is the whole object's size.</param>
/// <param name="Offset">Where in the object <paramref name="Data"/> starts.</param>
/// <param name="Data">The bytes read: exactly the resolved range, never fewer.</param>
public sealed record GetResult(ObjectMetadata Metadata, long Offset, ReadOnlyMemory<byte> Data);
