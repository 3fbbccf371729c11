using SlateSharp.Storage;

namespace SlateSharp.Tests.Gc;

/// <summary>What a <see cref="DeleteFaultStore"/> does to one delete.</summary>
public enum DeleteFault
{
    None,

    /// <summary>Fails before reaching the store: nothing is deleted.</summary>
    Fail,

    /// <summary>Deletes, then answers with a timeout: the caller cannot know it happened.</summary>
    LostAnswer,
}

/// <summary>Passes everything through, except that the deletes <see cref="Decide"/> names fail or lose their answer.</summary>
internal sealed class DeleteFaultStore(IObjectStore inner) : IObjectStore
{
    public Func<ObjectPath, DeleteFault> Decide { get; set; } = _ => DeleteFault.None;

    public string Location => inner.Location;

    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.HeadAsync(path, cancellationToken);

    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) => inner.GetAsync(path, range, cancellationToken);

    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
        inner.PutAsync(path, content, options, cancellationToken);

    public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
        inner.PutAsync(path, content, options, cancellationToken);

    public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        switch (Decide(path))
        {
            case DeleteFault.Fail:
                throw new SlateSharpException(ErrorKind.Unavailable, $"injected: 503 before the delete reached the store (path={path})");
            case DeleteFault.LostAnswer:
                await inner.DeleteAsync(path, cancellationToken);
                throw new SlateSharpException(ErrorKind.Unavailable, $"injected: timed out waiting for the answer (path={path})");
            default:
                await inner.DeleteAsync(path, cancellationToken);
                break;
        }
    }
}
