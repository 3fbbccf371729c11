namespace SlateSharp;

/// <summary>What a read may see.</summary>
public sealed class ReadOptions
{
    /// <summary>The default: every acknowledged write, durable or not.</summary>
    public static ReadOptions Default { get; } = new();

    /// <summary>
    /// True: see only writes already stored in the WAL or in SSTs, i.e. nothing a crash could still take away.
    /// Default false.
    /// </summary>
    public bool DurableOnly { get; init; }
}
