using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Gc;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;

namespace SlateSharp;

/// <summary>
/// Garbage collection of a database from any process, beside its writer, compactor and readers (the
/// <c>Engine.Bench -- gc</c> command uses it). It honours everything stored (manifests, checkpoints, reader leases);
/// SSTs held only in another process's memory are protected by their minimum age (docs/design/gc-and-readers.md).
/// </summary>
public static class DbGarbageCollector
{
    /// <summary>How often <see cref="RunAsync"/> collects when <see cref="GcOptions.Interval"/> is null.</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromMinutes(1);

    /// <summary>Opens the database's store from <paramref name="url"/> and runs one collection.</summary>
    public static async ValueTask<GcReport> RunOnceAsync(
        string url, GcOptions? options = null, ObjectStoreOptions? storeOptions = null, CancellationToken cancellationToken = default)
    {
        storeOptions ??= new ObjectStoreOptions();
        (options ??= new GcOptions()).Validate();
        var store = await ObjectStores.OpenAsync(url, storeOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            return await Collector(store, options, storeOptions.TimeProvider, storeOptions.LoggerFactory).RunOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs one collection of the database under <paramref name="path"/> ("" for the root) of <paramref name="store"/>.</summary>
    public static async ValueTask<GcReport> RunOnceAsync(
        IObjectStore store, string path, GcOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var scoped = string.IsNullOrEmpty(path) ? store : new PrefixedObjectStore(store, path);
        return await Collector(scoped, options ?? new GcOptions(), timeProvider ?? TimeProvider.System, loggerFactory).RunOnceAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Collects every <see cref="GcOptions.Interval"/> (default <see cref="DefaultInterval"/>) until
    /// <paramref name="cancellationToken"/> is cancelled, then returns. A failed pass is logged and does not end the loop;
    /// <paramref name="onReport"/> sees each pass that completed.
    /// </summary>
    public static async Task RunAsync(
        string url, GcOptions? options = null, ObjectStoreOptions? storeOptions = null, Action<GcReport>? onReport = null,
        CancellationToken cancellationToken = default)
    {
        storeOptions ??= new ObjectStoreOptions();
        (options ??= new GcOptions()).Validate();
        var store = await ObjectStores.OpenAsync(url, storeOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            await Collector(store, options, storeOptions.TimeProvider, storeOptions.LoggerFactory)
                .RunEveryAsync(options.Interval ?? DefaultInterval, onReport, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static GarbageCollector Collector(IObjectStore store, GcOptions options, TimeProvider time, ILoggerFactory? loggers) =>
        new(store, options, time, (loggers ?? NullLoggerFactory.Instance).CreateLogger<GarbageCollector>());
}
