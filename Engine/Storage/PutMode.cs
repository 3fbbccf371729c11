namespace SlateSharp.Storage;

/// <summary>How a put treats an object that already exists at the path.</summary>
public enum PutModeKind
{
    /// <summary>Replace whatever is there.</summary>
    Overwrite,

    /// <summary>Store only if nothing is at the path; otherwise report <see cref="PutOutcome.AlreadyExists"/>.</summary>
    CreateIfAbsent,

    /// <summary>Replace only if the stored version equals the expected one; otherwise report <see cref="PutOutcome.VersionMismatch"/>.</summary>
    IfVersionMatches,
}

/// <summary>The condition of a put: overwrite, create-if-absent, or replace-if-version-matches.</summary>
public readonly record struct PutMode
{
    private PutMode(PutModeKind kind, ObjectVersion? expected)
    {
        Kind = kind;
        ExpectedVersion = expected;
    }

    /// <summary>Replace whatever is there.</summary>
    public static PutMode Overwrite { get; } = new(PutModeKind.Overwrite, null);

    /// <summary>Store only if nothing is at the path.</summary>
    public static PutMode CreateIfAbsent { get; } = new(PutModeKind.CreateIfAbsent, null);

    /// <summary>Which condition applies.</summary>
    public PutModeKind Kind { get; }

    /// <summary>For <see cref="PutModeKind.IfVersionMatches"/>: the version the stored object must have.</summary>
    public ObjectVersion? ExpectedVersion { get; }

    /// <summary>True for the two conditional kinds.</summary>
    public bool IsConditional => Kind != PutModeKind.Overwrite;

    /// <summary>Replace only if the stored object has version <paramref name="expected"/>.</summary>
    public static PutMode IfVersionMatches(ObjectVersion expected) => new(PutModeKind.IfVersionMatches, expected);

    /// <inheritdoc/>
    public override string ToString() =>
        Kind == PutModeKind.IfVersionMatches ? $"if-version-matches({ExpectedVersion})" : Kind.ToString();
}
