using SystemSource = System.Threading.CancellationTokenSource;

namespace SlateSharp;

/// <summary>
/// Simulation build only: stands in for <see cref="SystemSource"/> so that <see cref="CancelAsync"/> runs the
/// registered callbacks on the calling task, as <see cref="Cancel"/> does. The framework's <c>CancelAsync</c> runs them
/// on a thread-pool thread that Coyote does not control; disposing a registration then waits for that thread while
/// Coyote holds it, and the run hangs.
/// </summary>
internal sealed class CancellationTokenSource : IDisposable
{
    private readonly SystemSource _inner;

    public CancellationTokenSource()
        : this(new SystemSource())
    {
    }

    public CancellationTokenSource(TimeSpan delay, TimeProvider timeProvider)
        : this(new SystemSource(delay, timeProvider))
    {
    }

    private CancellationTokenSource(SystemSource inner) => _inner = inner;

    public CancellationToken Token => _inner.Token;

    public bool IsCancellationRequested => _inner.IsCancellationRequested;

    public static CancellationTokenSource CreateLinkedTokenSource(CancellationToken token) =>
        new(SystemSource.CreateLinkedTokenSource(token));

    public static CancellationTokenSource CreateLinkedTokenSource(CancellationToken token1, CancellationToken token2) =>
        new(SystemSource.CreateLinkedTokenSource(token1, token2));

    public void Cancel() => _inner.Cancel();

    public void CancelAfter(TimeSpan delay) => _inner.CancelAfter(delay);

    public Task CancelAsync()
    {
        _inner.Cancel();
        return Task.CompletedTask;
    }

    public void Dispose() => _inner.Dispose();
}
