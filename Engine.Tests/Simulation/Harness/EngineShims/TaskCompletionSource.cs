using SystemSource = System.Threading.Tasks.TaskCompletionSource;

namespace SlateSharp;

/// <summary>
/// Simulation build only: stands in for <see cref="SystemSource"/>. With
/// <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/> (which the engine uses everywhere) the framework
/// runs the continuations that are not awaits (the promises behind <c>WaitAsync</c> and <c>WhenAll</c>) on thread-pool
/// threads Coyote does not control, and a schedule no longer replays; without it, awaits would run inline inside the
/// completing call, under whatever locks its caller holds, which production never does. So the source keeps its
/// options and <see cref="Task"/> is a proxy: an async method awaiting the source, whose continuation Coyote posts as
/// an operation of its own. Everything downstream of the proxy completes on that operation's thread, Coyote's.
/// The cost: a completion becomes visible one scheduling step later, as it may in production.
/// </summary>
internal sealed class TaskCompletionSource
{
    private readonly SystemSource _inner;

    public TaskCompletionSource(TaskCreationOptions options)
    {
        _inner = new SystemSource(options);
        Task = ProxyAsync(_inner.Task);
    }

    public Task Task { get; }

    public bool TrySetResult() => _inner.TrySetResult();

    public bool TrySetException(Exception exception) => _inner.TrySetException(exception);

    public bool TrySetCanceled() => _inner.TrySetCanceled();

    private static async Task ProxyAsync(Task source) => await source;
}

/// <summary>The generic form of <see cref="TaskCompletionSource"/>, for the same reason.</summary>
internal sealed class TaskCompletionSource<TResult>
{
    private readonly System.Threading.Tasks.TaskCompletionSource<TResult> _inner;

    public TaskCompletionSource(TaskCreationOptions options)
    {
        _inner = new System.Threading.Tasks.TaskCompletionSource<TResult>(options);
        Task = ProxyAsync(_inner.Task);
    }

    public Task<TResult> Task { get; }

    public bool TrySetResult(TResult result) => _inner.TrySetResult(result);

    public bool TrySetException(Exception exception) => _inner.TrySetException(exception);

    public bool TrySetCanceled() => _inner.TrySetCanceled();

    private static async Task<TResult> ProxyAsync(Task<TResult> source) => await source;
}
