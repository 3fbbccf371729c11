namespace SlateSharp.Reader;

/// <summary>
/// Which manifest versions in-flight reads of this process still use (counted), so the reader's lease can name the
/// oldest one. Thread-safe.
/// </summary>
internal sealed class ManifestUse
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<ulong, int> _counts = [];

    /// <summary>Marks <paramref name="manifestId"/> in use until the returned handle is disposed.</summary>
    public Use Enter(ulong manifestId)
    {
        lock (_lock)
        {
            _counts[manifestId] = _counts.GetValueOrDefault(manifestId) + 1;
        }

        return new Use(this, manifestId);
    }

    /// <summary>The oldest manifest in use, or <paramref name="current"/> when it is older or nothing is in use.</summary>
    public ulong Oldest(ulong current)
    {
        lock (_lock)
        {
            return _counts.Count > 0 ? Math.Min(current, _counts.First().Key) : current;
        }
    }

    private void Exit(ulong manifestId)
    {
        lock (_lock)
        {
            if (_counts.TryGetValue(manifestId, out var count))
            {
                if (count <= 1)
                {
                    _counts.Remove(manifestId);
                }
                else
                {
                    _counts[manifestId] = count - 1;
                }
            }
        }
    }

    /// <summary>One read's use; released on the first dispose only.</summary>
    public sealed class Use(ManifestUse owner, ulong manifestId) : IDisposable
    {
        private ManifestUse? _owner = owner;

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Exit(manifestId);
    }
}
