using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A store whose puts under a chosen prefix wait at a gate until the test lets them through one at a time: a slow
/// store whose pace the test controls exactly, with no timing involved.
/// </summary>
public sealed class GatedObjectStore(IObjectStore inner, string gatedPrefix) : IObjectStore
{
    private readonly SemaphoreSlim _gate = new(0);
    private readonly Lock _lock = new();
    private TaskCompletionSource _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _open;

    public string Location => inner.Location;

    /// <summary>Completes when a gated put arrives at the gate.</summary>
    public Task NextArrival
    {
        get
        {
            lock (_lock)
            {
                return _arrival.Task;
            }
        }
    }

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

        TaskCompletionSource arrived;
        lock (_lock)
        {
            arrived = _arrival;
            _arrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        arrived.TrySetResult();
        await _gate.WaitAsync(cancellationToken);
    }
}
