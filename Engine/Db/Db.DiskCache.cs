using SlateSharp.Storage.Caching;
using SlateSharp.Storage.Decorators;

namespace SlateSharp;

public sealed partial class Db
{
    /// <summary>
    /// The disk cache's counters since open (hits, misses, bytes, evictions, current size), or null when
    /// <see cref="DbOptions.DiskCache"/> is not set.
    /// </summary>
    public DiskCacheStats? DiskCacheStats => ObjectStoreStack.Find<DiskCachedObjectStore>(_store)?.Stats();
}
