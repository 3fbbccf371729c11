namespace SlateSharp;

/// <summary>A key and its value, as a scan returns them.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value.</param>
public readonly record struct KeyValue(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value);
