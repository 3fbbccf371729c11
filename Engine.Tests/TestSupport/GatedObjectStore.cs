using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A store whose puts under a chosen prefix wait at a gate until the test lets them through one at a time: a slow
/// store whose pace the test controls exactly, with no timing involved.
/// </summary>
public sealed class GatedObjectStore(IObjectStore inner, string gatedPrefix) : IObjectStore
{
    private readonly SemaphoreSlim _gate = new(0);
    private readonly SemaphoreSlim _arrivals = new(0);
    private bool _open;

    public string Location => inner.Location;

    /// <summary>
    /// Completes when one more gated put has arrived: each arrival is counted, so an upload that arrives before the
    /// caller asks again is not missed (a single completion source could be replaced unseen).
    /// </summary>
    public Task NextArrival => _arrivals.WaitAsync();

    public int Released { get; private set; }

    public void ReleaseOne()
    {
        Released++;
        _gate.Release();
    }

    /// <summary>Lets every put through from now on.</summary>
    public void Open()
    {
        _open = true;
        _gate.Release(1000);
    }

    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.HeadAsync(path, cancellationToken);

    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) => inner.GetAsync(path, range, cancellationToken);

    public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        await PassAsync(path, cancellationToken);
        return await inner.PutAsync(path, content, options, cancellationToken);
    }

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        await PassAsync(path, cancellationToken);
        return await inner.PutAsync(path, content, options, cancellationToken);
    }

    public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);

    private async Task PassAsync(ObjectPath path, CancellationToken cancellationToken)
    {
        if (_open || !path.Value.StartsWith(gatedPrefix, StringComparison.Ordinal))
        {
            return;
        }

        _arrivals.Release();
        await _gate.WaitAsync(cancellationToken);
    }
}
