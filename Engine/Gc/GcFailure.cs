namespace SlateSharp;

/// <summary>
/// A delete that failed or whose outcome is unknown (the answer was lost): the object may or may not still exist.
/// It is not counted as deleted, and the next collection tries again.
/// </summary>
/// <param name="Kind">What the object is.</param>
/// <param name="Path">Its path, relative to the database.</param>
/// <param name="Error">Why the delete did not settle.</param>
public sealed record GcFailure(GcObjectKind Kind, string Path, string Error);
