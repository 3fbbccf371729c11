namespace SlateSharp;

/// <summary>The one exception type the engine throws for its own failures.</summary>
public sealed class SlateSharpException : Exception
{
    /// <summary>Creates an error of the given kind.</summary>
    public SlateSharpException(ErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>Creates a <see cref="ErrorKind.Closed"/> error with its reason.</summary>
    public SlateSharpException(CloseReason closeReason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = ErrorKind.Closed;
        CloseReason = closeReason;
    }

    /// <summary>What the caller should do about it.</summary>
    public ErrorKind Kind { get; }

    /// <summary>Why the database closed, when <see cref="Kind"/> is <see cref="ErrorKind.Closed"/>.</summary>
    public CloseReason? CloseReason { get; }

    /// <summary>True when a newer writer or compactor fenced this instance out.</summary>
    public bool IsFenced => CloseReason == SlateSharp.CloseReason.Fenced;
}
