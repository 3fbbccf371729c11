namespace SlateSharp.Manifest;

/// <summary>Whether a manifest change is in the stored chain, as far as can be known.</summary>
internal enum ManifestChangeState
{
    /// <summary>No stored version holds the change, and none ever will: every write that carried it was settled.</summary>
    NotApplied,

    /// <summary>A stored version holds the change (its write landed, even if the answer was lost).</summary>
    Applied,

    /// <summary>A write carrying the change went out and its outcome could not be learned: it may still land.</summary>
    Unknown,
}

/// <summary>
/// What one <see cref="FenceableManifest.UpdateAsync(System.Func{DbManifest, DbManifest}, IReadOnlyCollection{SstId}, ManifestUpdateAttempt?, CancellationToken)"/>
/// call sent: the manifest ids at which a write carrying the change went out without a "stored" answer. When the
/// update fails, <see cref="FenceableManifest.ResolveAsync"/> reads those ids to learn whether the change is stored,
/// which decides whether what it references may be deleted. Not thread-safe: one attempt per update call.
/// </summary>
internal sealed class ManifestUpdateAttempt
{
    private readonly List<ulong> _unsettled = [];

    /// <summary>Ids written without a "stored" answer (a failure, a lost answer or "already exists").</summary>
    public IReadOnlyList<ulong> UnsettledIds => _unsettled;

    /// <summary>True once any write carrying the change was sent.</summary>
    public bool AnySent { get; private set; }

    internal void Sent(ulong id)
    {
        AnySent = true;
        if (!_unsettled.Contains(id))
        {
            _unsettled.Add(id);
        }
    }
}
