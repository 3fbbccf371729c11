using System.Runtime.CompilerServices;
using SlateSharp.Manifest;

namespace SlateSharp.Sst;

/// <summary>
/// The SSTs this process still needs, whatever any manifest says: those an in-flight get, scan or reader view reads,
/// and those a flush or compaction has minted but not yet published. The in-process garbage collector never deletes a
/// pinned SST. Pins are counted, so the same SST may be pinned by many holders; disposing a pin releases it once.
/// Thread-safe.
/// </summary>
/// <remarks>
/// Gets and scans pin a whole manifest (<see cref="AcquireRead"/>): its SSTs are listed once per manifest object and
/// the pin only counts, so a get pays a table lookup and a counter under the lock instead of one dictionary update per
/// SST it might read, and allocates nothing.
/// </remarks>
internal sealed class SstPins
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SstId, int> _counts = [];
    private readonly ConditionalWeakTable<DbManifest, ManifestPins> _manifests = new();
    private readonly HashSet<ManifestPins> _pinnedManifests = new(ReferenceEqualityComparer.Instance);

    /// <summary>Pins <paramref name="ids"/> until the returned handle is disposed.</summary>
    public Pin Acquire(IEnumerable<SstId> ids)
    {
        var held = ids.ToArray();
        lock (_lock)
        {
            foreach (var id in held)
            {
                _counts[id] = _counts.GetValueOrDefault(id) + 1;
            }
        }

        return new Pin(this, held);
    }

    /// <summary>Pins every SST <paramref name="manifest"/> references.</summary>
    public Pin Acquire(DbManifest manifest) =>
        Acquire(manifest.L0.Select(h => h.Id).Concat(manifest.SortedRuns.SelectMany(r => r.Ssts).Select(h => h.Id)));

    /// <summary>Pins every SST <paramref name="manifest"/> references until the returned pin is disposed (once).</summary>
    public ReadPin AcquireRead(DbManifest manifest)
    {
        var pins = _manifests.GetValue(manifest, static m => new ManifestPins(
            [.. m.L0.Select(h => h.Id), .. m.SortedRuns.SelectMany(r => r.Ssts).Select(h => h.Id)]));
        lock (_lock)
        {
            if (pins.Count++ == 0)
            {
                _pinnedManifests.Add(pins);
            }
        }

        return new ReadPin(this, pins);
    }

    /// <summary>The SSTs pinned right now.</summary>
    public IReadOnlySet<SstId> Snapshot()
    {
        lock (_lock)
        {
            var pinned = new HashSet<SstId>(_counts.Keys);
            foreach (var manifest in _pinnedManifests)
            {
                pinned.UnionWith(manifest.Ids);
            }

            return pinned;
        }
    }

    /// <summary>How many distinct SSTs are pinned.</summary>
    public int Count => Snapshot().Count;

    private void Release(SstId[] ids)
    {
        lock (_lock)
        {
            foreach (var id in ids)
            {
                if (_counts.TryGetValue(id, out var count))
                {
                    if (count <= 1)
                    {
                        _counts.Remove(id);
                    }
                    else
                    {
                        _counts[id] = count - 1;
                    }
                }
            }
        }
    }

    private void Release(ManifestPins pins)
    {
        lock (_lock)
        {
            if (--pins.Count == 0)
            {
                _pinnedManifests.Remove(pins);
            }
        }
    }

    /// <summary>A get's or scan's pin of one manifest (<see cref="AcquireRead"/>); dispose it exactly once.</summary>
    public readonly struct ReadPin(SstPins owner, ManifestPins pins) : IDisposable
    {
        public void Dispose() => owner?.Release(pins);
    }

    /// <summary>The SSTs of one manifest object, and how many reads pin it now (guarded by the owner's lock).</summary>
    internal sealed class ManifestPins(SstId[] ids)
    {
        public SstId[] Ids { get; } = ids;

        public int Count { get; set; }
    }

    /// <summary>One holder's pin; releases on the first dispose only.</summary>
    public sealed class Pin : IDisposable
    {
        private SstPins? _owner;
        private readonly SstId[] _ids;

        internal Pin(SstPins owner, SstId[] ids)
        {
            _owner = owner;
            _ids = ids;
        }

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release(_ids);
    }
}
