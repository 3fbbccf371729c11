using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>Wraps a store and counts reads, recording every requested range, to prove how many requests a reader makes.</summary>
internal sealed class CountingObjectStore(IObjectStore inner) : IObjectStore
{
    private int _gets;

    public int Gets => Volatile.Read(ref _gets);

    public List<(ObjectPath Path, ByteRange Range)> Requests { get; } = [];

    public string Location => inner.Location;

    public void Reset()
    {
        Interlocked.Exchange(ref _gets, 0);
        lock (Requests)
        {
            Requests.Clear();
        }
    }

    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        inner.HeadAsync(path, cancellationToken);

    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _gets);
        lock (Requests)
        {
            Requests.Add((path, range));
        }

        return inner.GetAsync(path, range, cancellationToken);
    }

    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
        inner.PutAsync(path, content, options, cancellationToken);

    public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
        inner.PutAsync(path, content, options, cancellationToken);

    public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        inner.ListAsync(prefix, cancellationToken);

    public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(path, cancellationToken);
}
