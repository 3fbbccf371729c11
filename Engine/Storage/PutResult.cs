namespace SlateSharp.Storage;

/// <summary>What a put did.</summary>
public enum PutOutcome
{
    /// <summary>The object was stored, whole.</summary>
    Stored,

    /// <summary>A create-if-absent found an object at the path; nothing was written.</summary>
    AlreadyExists,

    /// <summary>An if-version-matches found another version (or no object); nothing was written.</summary>
    VersionMismatch,
}

/// <summary>The outcome of a put and, when stored, the new version.</summary>
public readonly record struct PutResult(PutOutcome Outcome, ObjectVersion? Version)
{
    /// <summary>True when the object was stored.</summary>
    public bool Stored => Outcome == PutOutcome.Stored;

    /// <summary>A stored result.</summary>
    public static PutResult StoredAs(ObjectVersion version) => new(PutOutcome.Stored, version);

    /// <summary>The create-if-absent lost.</summary>
    public static PutResult AlreadyExists { get; } = new(PutOutcome.AlreadyExists, null);

    /// <summary>The if-version-matches lost.</summary>
    public static PutResult VersionMismatch { get; } = new(PutOutcome.VersionMismatch, null);
}
