using System.Diagnostics.CodeAnalysis;

namespace SlateSharp;

/// <summary>
/// Builds engine errors with consistent lowercase key=value messages, and keeps throw code off hot paths.
/// </summary>
internal static class Errors
{
    public static SlateSharpException Invalid(string message, Exception? inner = null) =>
        new(ErrorKind.Invalid, message, inner);

    public static SlateSharpException Data(string path, long offset, string message, Exception? inner = null) =>
        new(ErrorKind.Data, $"{message} (path={path} offset={offset})", inner);

    public static SlateSharpException Data(string path, string message, Exception? inner = null) =>
        new(ErrorKind.Data, $"{message} (path={path})", inner);

    public static SlateSharpException Unavailable(string message, Exception? inner = null) =>
        new(ErrorKind.Unavailable, message, inner);

    public static SlateSharpException Internal(string message, Exception? inner = null) =>
        new(ErrorKind.Internal, message, inner);

    /// <summary>A fenced instance: the message says what found it out; the advice is the same for every case.</summary>
    public static SlateSharpException Fenced(string message, Exception? inner = null) =>
        new(CloseReason.Fenced, message.Contains(FencedAdvice, StringComparison.Ordinal) ? message : $"{message}; {FencedAdvice}", inner);

    private const string FencedAdvice = "another writer has opened this database since: open it again to become its writer";

    public static SlateSharpException ClosedClean(string message) =>
        new(CloseReason.Clean, message);

    public static SlateSharpException ClosedFailed(string message, Exception? inner = null) =>
        new(CloseReason.Failed, message, inner);

    [DoesNotReturn]
    public static void ThrowInvalid(string message) => throw Invalid(message);

    [DoesNotReturn]
    public static void ThrowData(string path, long offset, string message) => throw Data(path, offset, message);
}
