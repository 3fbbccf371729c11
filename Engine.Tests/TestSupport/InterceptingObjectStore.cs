using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A store whose puts and gets a test can script one by one: <see cref="OnPut"/> sees each put's path and options
/// and a <c>proceed</c> function that performs it on the inner store, and returns the answer the caller gets (so a
/// test can let the put land and lose the answer, land it and answer "exists", answer "exists" without storing, or
/// hold it until cancelled). Null hooks pass everything through. The seeded fault store covers random faults; this
/// one states one exact scenario.
/// </summary>
public sealed class InterceptingObjectStore(IObjectStore inner) : IObjectStore
{
    public delegate Task<PutResult> PutHook(ObjectPath path, PutOptions options, Func<Task<PutResult>> proceed, CancellationToken cancellationToken);

    public delegate Task<GetResult?> GetHook(ObjectPath path, Func<Task<GetResult?>> proceed, CancellationToken cancellationToken);

    public PutHook? OnPut { get; set; }

    public GetHook? OnGet { get; set; }

    /// <summary>Paths deleted through this store, in order.</summary>
    public List<ObjectPath> Deleted { get; } = [];

    public string Location => inner.Location;

    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.HeadAsync(path, cancellationToken);

    public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        OnGet is { } hook
            ? await hook(path, async () => await inner.GetAsync(path, range, cancellationToken), cancellationToken)
            : await inner.GetAsync(path, range, cancellationToken);

    public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
        OnPut is { } hook
            ? await hook(path, options, async () => await inner.PutAsync(path, content, options, cancellationToken), cancellationToken)
            : await inner.PutAsync(path, content, options, cancellationToken);

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
        OnPut is { } hook
            ? await hook(path, options, async () => await inner.PutAsync(path, content, options, cancellationToken), cancellationToken)
            : await inner.PutAsync(path, content, options, cancellationToken);

    public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        lock (Deleted)
        {
            Deleted.Add(path);
        }

        await inner.DeleteAsync(path, cancellationToken);
    }

    /// <summary>The injected "timeout after the server applied it".</summary>
    public static SlateSharpException AnswerLost(ObjectPath path) =>
        new(ErrorKind.Unavailable, $"injected: request timed out after the server applied it (path={path})");
}
