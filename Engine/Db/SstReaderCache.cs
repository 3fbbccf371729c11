using System.Collections.Concurrent;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;

namespace SlateSharp;

/// <summary>Open SST readers (footer, index and filter in memory), opened on first use and shared.</summary>
internal sealed class SstReaderCache(IObjectStore store, BlockCache? blocks)
{
    private readonly ConcurrentDictionary<SstId, Lazy<Task<SstReader>>> _readers = new();

    public static ObjectPath PathOf(SstId id) => ObjectPath.Parse($"compacted/{id}.sst");

    public async ValueTask<SstReader> GetAsync(SstId id, CancellationToken cancellationToken)
    {
        var lazy = _readers.GetOrAdd(id, key => new Lazy<Task<SstReader>>(() => SstReader.OpenAsync(store, PathOf(key), blocks, CancellationToken.None).AsTask()));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            _readers.TryRemove(new KeyValuePair<SstId, Lazy<Task<SstReader>>>(id, lazy));
            throw;
        }
    }
}
