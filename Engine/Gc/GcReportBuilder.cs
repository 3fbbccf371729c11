using SlateSharp.Storage;

namespace SlateSharp.Gc;

/// <summary>Collects one pass's decisions; thread-safe, since deletes of one kind run in parallel.</summary>
internal sealed class GcReportBuilder(bool dryRun, DateTimeOffset startedAt)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<GcObjectKind, List<ObjectMetadata>> _deleted = [];
    private readonly List<GcFailure> _failures = [];
    private int _referenced;
    private int _pinned;
    private int _tooYoung;
    private int _fence;
    private int _retained;
    private int _unparseable;

    public ulong LatestManifestId { get; set; }

    public IReadOnlyList<ulong> LiveManifestIds { get; set; } = [];

    public void Deleted(GcObjectKind kind, ObjectMetadata item)
    {
        lock (_lock)
        {
            if (!_deleted.TryGetValue(kind, out var list))
            {
                _deleted[kind] = list = [];
            }

            list.Add(item);
        }
    }

    public void Failed(GcObjectKind kind, ObjectPath path, string error)
    {
        lock (_lock)
        {
            _failures.Add(new GcFailure(kind, path.Value, error));
        }
    }

    public void Kept(GcKeep reason)
    {
        lock (_lock)
        {
            switch (reason)
            {
                case GcKeep.Referenced: _referenced++; break;
                case GcKeep.PinnedInProcess: _pinned++; break;
                case GcKeep.TooYoung: _tooYoung++; break;
                case GcKeep.Fence: _fence++; break;
                case GcKeep.Retained: _retained++; break;
                case GcKeep.UnparseableName: _unparseable++; break;
            }
        }
    }

    public GcReport Build()
    {
        lock (_lock)
        {
            return new GcReport
            {
                DryRun = dryRun,
                StartedAt = startedAt,
                LatestManifestId = LatestManifestId,
                LiveManifestIds = LiveManifestIds,
                Ssts = Deletions(GcObjectKind.Sst),
                Manifests = Deletions(GcObjectKind.Manifest),
                WalObjects = Deletions(GcObjectKind.Wal),
                Leases = Deletions(GcObjectKind.Lease),
                Kept = new GcKept(_referenced, _pinned, _tooYoung, _fence, _retained, _unparseable),
                Failures = _failures.OrderBy(f => f.Path, StringComparer.Ordinal).ToArray(),
            };
        }
    }

    private GcDeletions Deletions(GcObjectKind kind)
    {
        if (!_deleted.TryGetValue(kind, out var list) || list.Count == 0)
        {
            return GcDeletions.None;
        }

        // Manifests were deleted in ascending order already; for the kinds deleted in parallel, path order.
        var paths = list.Select(i => i.Path.Value).Order(StringComparer.Ordinal).ToArray();
        return new GcDeletions(list.Count, list.Sum(i => i.Size), paths);
    }
}

/// <summary>Why an object was kept (see <see cref="GcKept"/>).</summary>
internal enum GcKeep
{
    Referenced,
    PinnedInProcess,
    TooYoung,
    Fence,
    Retained,
    UnparseableName,
}
