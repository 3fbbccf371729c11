using SlateSharp.Manifest;

namespace SlateSharp.Sst;

/// <summary>
/// The SSTs this process still needs, whatever any manifest says: those an in-flight get, scan or reader view reads,
/// and those a flush or compaction has minted but not yet published. The in-process garbage collector never deletes a
/// pinned SST. Pins are counted, so the same SST may be pinned by many holders; disposing a pin releases it once.
/// Thread-safe.
/// </summary>
internal sealed class SstPins
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SstId, int> _counts = [];

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

    /// <summary>The SSTs pinned right now.</summary>
    public IReadOnlySet<SstId> Snapshot()
    {
        lock (_lock)
        {
            return new HashSet<SstId>(_counts.Keys);
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _counts.Count;
            }
        }
    }

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
