using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;

namespace SlateSharp.Storage;

/// <summary>
/// Opens an <see cref="IObjectStore"/> from a URL: <c>memory://name</c>, <c>file:///absolute/path</c>,
/// <c>s3://bucket/prefix</c> or <c>gs://bucket/prefix</c>.
/// </summary>
public static class ObjectStores
{
    /// <summary>Parses <paramref name="url"/> and opens the store it names; bad URLs fail with <see cref="ErrorKind.Invalid"/>.</summary>
    public static ValueTask<IObjectStore> OpenAsync(string url, ObjectStoreOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        options ??= new ObjectStoreOptions();
        var parsed = StoreUrl.Parse(url);
        IObjectStore store = parsed.Scheme switch
        {
            StoreUrl.MemoryScheme => InMemoryObjectStore.GetOrCreateNamed(parsed.Authority),
            StoreUrl.FileScheme => LocalFileSystemObjectStore.Open(parsed.Path, LocalOptions(options)),
            _ => throw Errors.Invalid($"{parsed.Scheme}:// stores are not supported yet (url={url})"),
        };
        return ValueTask.FromResult(store);
    }

    private static LocalStoreOptions LocalOptions(ObjectStoreOptions options)
    {
        var local = options.Local ?? new LocalStoreOptions();
        return new LocalStoreOptions
        {
            ReadOnly = options.ReadOnly || local.ReadOnly,
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
