using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Storage;
using SlateSharp.Storage.Caching;

namespace SlateSharp.Sst;

/// <summary>
/// Puts the optional disk cache (<see cref="DiskCacheOptions"/>) over a database's store, for SST paths only: SSTs
/// never change once written, while manifests, WAL objects and leases do or are read once. Shared by
/// <see cref="Db"/> and <see cref="DbReader"/>.
/// </summary>
internal static class SstDiskCache
{
    public static bool IsSst(ObjectPath path) =>
        path.Value.StartsWith(SstPaths.Prefix, StringComparison.Ordinal) && path.Value.EndsWith(".sst", StringComparison.Ordinal);

    /// <summary>
    /// The store to use and the object to dispose with it: <paramref name="store"/> and <paramref name="owned"/>
    /// unchanged without a disk cache, else the cache (which then disposes <paramref name="owned"/>).
    /// </summary>
    public static (IObjectStore Store, IAsyncDisposable? Owned) Wrap(IObjectStore store, IAsyncDisposable? owned, DiskCacheOptions? options, ILoggerFactory? loggers)
    {
        if (options is null)
        {
            return (store, owned);
        }

        var logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<DiskCachedObjectStore>();
        var cached = DiskCachedObjectStore.Open(store, owned, options, IsSst, logger);
        return (cached, cached);
    }
}
