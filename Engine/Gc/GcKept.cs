namespace SlateSharp;

/// <summary>
/// How many listed objects a collection kept, by the first reason that kept each (an object kept for two reasons
/// counts once).
/// </summary>
/// <param name="Referenced">Needed by a live manifest: an SST it references, a WAL object above its replay point, the manifest itself, an unexpired lease.</param>
/// <param name="PinnedInProcess">An SST this process still reads or is about to publish (in-process collection only).</param>
/// <param name="TooYoung">Younger than its kind's minimum age (or, for a lease, expired for less than the grace).</param>
/// <param name="FenceKept">A WAL fence record younger than <see cref="GcOptions.FenceMinAge"/>.</param>
/// <param name="Retained">Kept by a retention rule: the newest manifests and WAL object, and every manifest after the first one kept.</param>
/// <param name="UnparseableName">A name under a collected prefix that is no object the collector knows; left alone.</param>
public sealed record GcKept(int Referenced, int PinnedInProcess, int TooYoung, int FenceKept, int Retained, int UnparseableName)
{
    /// <summary>All of them.</summary>
    public int Total => Referenced + PinnedInProcess + TooYoung + FenceKept + Retained + UnparseableName;
}
