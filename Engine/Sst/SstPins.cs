using SlateSharp.Manifest;

namespace SlateSharp.Sst;

/// <summary>
/// The SSTs this process still needs, whatever any manifest says: those an in-flight get, scan or reader view reads,
/// and those a flush or compaction has minted but not yet published. The in-process garbage collector never deletes a
/// pinned SST. Pins are counted, so the same SST may be pinned by many holders; disposing a pin releases it once.
/// Thread-safe.
/// </summary>
/// <remarks>
/// A writer's read view pins its whole manifest for as long as it is current or read, and a reader's gets and scans
/// each pin theirs (<see cref="AcquireRead"/>): its SSTs are listed once per manifest object and
/// the pin only counts (<see cref="ManifestReadPins"/>), without a lock: a get on the manifest the last read pinned
/// pays one compare-and-swap to enter and one decrement to leave, and allocates nothing. The lock is taken only when a
/// read pins a manifest other than the last one, which registers it and retires the unread ones.
/// </remarks>
internal sealed class SstPins
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SstId, int> _counts = [];

    // Every manifest's read pins not yet retired, guarded by _lock; the newest read's, without it.
    private readonly List<ManifestReadPins> _manifests = [];
    private ManifestReadPins? _latest;

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
    public Pin Acquire(DbManifest manifest) => Acquire(manifest.SstIds());

    /// <summary>Pins every SST <paramref name="manifest"/> references until the returned pin is disposed (once).</summary>
    public ReadPin AcquireRead(DbManifest manifest)
    {
        var latest = Volatile.Read(ref _latest);
        return latest is not null && ReferenceEquals(latest.Manifest, manifest) && latest.TryEnter()
            ? new ReadPin(latest)
            : AcquireReadRegistered(manifest);
    }

    /// <summary>
    /// The slow path of <see cref="AcquireRead"/>: enters the manifest's registered pins, or registers new ones
    /// (entered before the lock is let go, so <see cref="Snapshot"/> sees them held) and retires those of every other
    /// manifest but the last one read that no read holds, so the list stays as short as the manifests being read and
    /// reads alternating between two manifests (a snapshot's and the current one) register nothing new.
    /// </summary>
    private ReadPin AcquireReadRegistered(DbManifest manifest)
    {
        lock (_lock)
        {
            var previous = _latest;
            ManifestReadPins? entered = null;
            for (var i = _manifests.Count - 1; i >= 0; i--)
            {
                var pins = _manifests[i];
                if (entered is null && ReferenceEquals(pins.Manifest, manifest) && pins.TryEnter())
                {
                    entered = pins;
                }
                else if (!ReferenceEquals(pins, previous) && pins.TryRetire())
                {
                    _manifests.RemoveAt(i);
                }
            }

            if (entered is null)
            {
                entered = new ManifestReadPins(manifest, [.. manifest.SstIds()]);
                _ = entered.TryEnter();
                _manifests.Add(entered);
            }

            Volatile.Write(ref _latest, entered);
            return new ReadPin(entered);
        }
    }

    /// <summary>The SSTs pinned right now.</summary>
    public IReadOnlySet<SstId> Snapshot()
    {
        lock (_lock)
        {
            var pinned = new HashSet<SstId>(_counts.Keys);
            foreach (var manifest in _manifests)
            {
                if (manifest.IsHeld)
                {
                    pinned.UnionWith(manifest.Ids);
                }
            }

            return pinned;
        }
    }

    /// <summary>How many manifests' read pins are registered (held, or not yet retired).</summary>
    internal int RegisteredManifests
    {
        get
        {
            lock (_lock)
            {
                return _manifests.Count;
            }
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

    /// <summary>A get's or scan's pin of one manifest (<see cref="AcquireRead"/>); dispose it exactly once.</summary>
    public readonly struct ReadPin(ManifestReadPins pins) : IDisposable
    {
        public void Dispose() => pins?.Exit();
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
