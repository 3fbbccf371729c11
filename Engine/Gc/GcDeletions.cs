namespace SlateSharp;

/// <summary>The objects of one kind a collection deleted (or, in a dry run, would delete), in the order it did so.</summary>
/// <param name="Count">How many.</param>
/// <param name="Bytes">Their total size, as listed.</param>
/// <param name="Paths">Their paths, relative to the database.</param>
public sealed record GcDeletions(int Count, long Bytes, IReadOnlyList<string> Paths)
{
    /// <summary>Nothing deleted.</summary>
    public static GcDeletions None { get; } = new(0, 0, []);
}
