using System.Globalization;
using System.Text;

namespace SlateSharp;

/// <summary>What one garbage collection deleted (or, in a dry run, would delete), what it kept and why, and what failed.</summary>
public sealed record GcReport
{
    /// <summary>True when nothing was deleted and the deletions are what would have been.</summary>
    public required bool DryRun { get; init; }

    /// <summary>When the collection started, by the collector's clock.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>The latest manifest the collection read; 0 when the database has no manifest yet (nothing is deleted).</summary>
    public required ulong LatestManifestId { get; init; }

    /// <summary>The manifest versions the collection treated as live (latest, pinned by checkpoints or leases, recently latest).</summary>
    public required IReadOnlyList<ulong> LiveManifestIds { get; init; }

    /// <summary>SSTs under <c>compacted/</c>.</summary>
    public required GcDeletions Ssts { get; init; }

    /// <summary>Manifest versions, always an ascending prefix of the ids.</summary>
    public required GcDeletions Manifests { get; init; }

    /// <summary>WAL objects (data and fences).</summary>
    public required GcDeletions WalObjects { get; init; }

    /// <summary>Reader leases, expired or unreadable.</summary>
    public required GcDeletions Leases { get; init; }

    /// <summary>What was listed and kept, by reason.</summary>
    public required GcKept Kept { get; init; }

    /// <summary>Deletes that failed or whose outcome is unknown; retried by the next collection.</summary>
    public required IReadOnlyList<GcFailure> Failures { get; init; }

    /// <summary>The deletions of one kind.</summary>
    public GcDeletions Of(GcObjectKind kind) => kind switch
    {
        GcObjectKind.Sst => Ssts,
        GcObjectKind.Manifest => Manifests,
        GcObjectKind.Wal => WalObjects,
        GcObjectKind.Lease => Leases,
        _ => throw Errors.Invalid($"no such kind of collected object (kind={(int)kind})"),
    };

    /// <summary>A few lines for logs and the command line.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        var verb = DryRun ? "would delete" : "deleted";
        text.Append(CultureInfo.InvariantCulture, $"gc at {StartedAt:O} (latest manifest {LatestManifestId}, live {string.Join(',', LiveManifestIds)}){(DryRun ? ", dry run" : string.Empty)}\n");
        foreach (var kind in Enum.GetValues<GcObjectKind>())
        {
            var d = Of(kind);
            text.Append(CultureInfo.InvariantCulture, $"  {verb} {d.Count} {kind.ToString().ToLowerInvariant()} objects ({d.Bytes} bytes)\n");
        }

        text.Append(CultureInfo.InvariantCulture,
            $"  kept: referenced {Kept.Referenced}, pinned in process {Kept.PinnedInProcess}, too young {Kept.TooYoung}, fence {Kept.FenceKept}, retained {Kept.Retained}, unparseable name {Kept.UnparseableName}\n");
        text.Append(CultureInfo.InvariantCulture, $"  failed deletes: {Failures.Count}");
        foreach (var failure in Failures)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n    {failure.Kind} {failure.Path}: {failure.Error}");
        }

        return text.ToString();
    }
}
