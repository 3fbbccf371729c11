using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Common;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.Gcs;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Storage.S3;

namespace SlateSharp.Storage;

/// <summary>
/// Opens an <see cref="IObjectStore"/> from a URL: <c>memory://name</c>, <c>file:///absolute/path</c>,
/// <c>s3://bucket/prefix</c> or <c>gs://bucket/prefix</c>.
/// </summary>
/// <remarks>
/// Cloud stores come wrapped in two decorators: retrying outermost (transient failures, see
/// <see cref="ObjectStoreOptions.Retry"/>), and under it the instrumentation that counts every attempt that reaches
/// the backend. Opening a cloud store for writing proves that the server enforces conditional writes.
/// </remarks>
public static class ObjectStores
{
    /// <summary>Parses <paramref name="url"/> and opens the store it names; bad URLs fail with <see cref="ErrorKind.Invalid"/>.</summary>
    public static ValueTask<IObjectStore> OpenAsync(string url, ObjectStoreOptions? options = null, CancellationToken cancellationToken = default) =>
        OpenForAsync(url, options, options?.ReadOnly == true ? StoreAccess.ReadOnly : StoreAccess.ReadWrite, cancellationToken);

    /// <summary>Opens the store <paramref name="url"/> names for <paramref name="access"/> (which overrides <see cref="ObjectStoreOptions.ReadOnly"/>).</summary>
    internal static async ValueTask<IObjectStore> OpenForAsync(string url, ObjectStoreOptions? options, StoreAccess access, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        options ??= new ObjectStoreOptions();
        var parsed = StoreUrl.Parse(url);
        switch (parsed.Scheme)
        {
            case StoreUrl.MemoryScheme:
                return InMemoryObjectStore.GetOrCreateNamed(parsed.Authority);
            case StoreUrl.FileScheme:
                return LocalFileSystemObjectStore.Open(parsed.Path, LocalOptions(options, access));
        }

        options.Retry.Validate();
        var loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var random = options.Random ?? RandomSource.FromEntropy();
        var retrier = new Retrier(options.Retry, options.TimeProvider, random, loggers.CreateLogger<RetryingObjectStore>());
        IObjectStore backend = parsed.Scheme switch
        {
            StoreUrl.S3Scheme => await S3ObjectStore.OpenAsync(
                parsed.Authority, parsed.Path, options.S3 ?? new S3StoreOptions(), access, retrier, random, loggers.CreateLogger<S3ObjectStore>(), cancellationToken).ConfigureAwait(false),
            StoreUrl.GcsScheme => await GcsObjectStore.OpenAsync(
                parsed.Authority, parsed.Path, options.Gcs ?? new GcsStoreOptions(), access, retrier, random, loggers.CreateLogger<GcsObjectStore>(), cancellationToken).ConfigureAwait(false),
            _ => throw Errors.Invalid($"{parsed.Scheme}:// stores are not supported (url={url})"),
        };
        var instrumented = new InstrumentedObjectStore(backend, new ObjectStoreMetrics(), options.TimeProvider);
        return new RetryingObjectStore(instrumented, retrier, random);
    }

    /// <summary>The request metrics of a store opened by <see cref="OpenAsync"/>, or null for stores without them.</summary>
    internal static ObjectStoreMetrics? MetricsOf(IObjectStore store) => ObjectStoreStack.Find<InstrumentedObjectStore>(store)?.Metrics;

    private static LocalStoreOptions LocalOptions(ObjectStoreOptions options, StoreAccess access)
    {
        var local = options.Local ?? new LocalStoreOptions();
        return new LocalStoreOptions
        {
            ReadOnly = access == StoreAccess.ReadOnly || (access == StoreAccess.ReadWrite && local.ReadOnly),
            OverwritesOnly = access == StoreAccess.OverwritesOnly,
            ForceCommitStrategy = local.ForceCommitStrategy,
            AllowLockedRenameFallback = local.AllowLockedRenameFallback,
            StaleTempFileAge = local.StaleTempFileAge,
            TimeProvider = options.TimeProvider,
            LoggerFactory = options.LoggerFactory ?? local.LoggerFactory,
            Calls = local.Calls,
            StepHook = local.StepHook,
        };
    }
}
