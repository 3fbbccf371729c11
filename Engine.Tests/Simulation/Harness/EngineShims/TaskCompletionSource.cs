using SystemSource = System.Threading.Tasks.TaskCompletionSource;

namespace SlateSharp;

/// <summary>
/// Simulation build only: stands in for <see cref="SystemSource"/>. With
/// <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/> (which the engine uses everywhere) the framework
/// runs the continuations that are not awaits (the promises behind <c>WaitAsync</c> and <c>WhenAll</c>) on thread-pool
/// threads Coyote does not control, and a schedule no longer replays; without it, awaits would run inline inside the
/// completing call, under whatever locks its caller holds, which production never does. So the source keeps its
/// options and <see cref="Task"/> belongs to a relay: a second source without that option, which an async method
/// awaiting the first completes the same way (result, exception or cancellation), in an operation Coyote posts and
/// schedules. Everything downstream then completes on that operation's thread, Coyote's. The cost: a completion
/// becomes visible to waiters one scheduling step later, as it may in production.
/// </summary>
internal sealed class TaskCompletionSource
{
    private readonly SystemSource _source;
    private readonly SystemSource _relay = new(TaskCreationOptions.None);

    public TaskCompletionSource(TaskCreationOptions options)
    {
        _source = new SystemSource(options);
        _ = RelayAsync();
    }

    public Task Task => _relay.Task;

    public bool TrySetResult() => _source.TrySetResult();

    public bool TrySetException(Exception exception) => _source.TrySetException(exception);

    public bool TrySetCanceled() => _source.TrySetCanceled();

    private async Task RelayAsync()
    {
        try
        {
            await _source.Task;
        }
        catch (Exception)
        {
            // Copied below with the task's own state.
        }

        _ = _source.Task.Status switch
        {
            TaskStatus.Faulted => _relay.TrySetException(_source.Task.Exception!.InnerExceptions),
            TaskStatus.Canceled => _relay.TrySetCanceled(),
            _ => _relay.TrySetResult(),
        };
    }
}

/// <summary>The generic form of <see cref="TaskCompletionSource"/>, for the same reason.</summary>
internal sealed class TaskCompletionSource<TResult>
{
    private readonly System.Threading.Tasks.TaskCompletionSource<TResult> _source;
    private readonly System.Threading.Tasks.TaskCompletionSource<TResult> _relay = new(TaskCreationOptions.None);

    public TaskCompletionSource(TaskCreationOptions options)
    {
        _source = new System.Threading.Tasks.TaskCompletionSource<TResult>(options);
        _ = RelayAsync();
    }

    public Task<TResult> Task => _relay.Task;

    public bool TrySetResult(TResult result) => _source.TrySetResult(result);

    public bool TrySetException(Exception exception) => _source.TrySetException(exception);

    public bool TrySetCanceled() => _source.TrySetCanceled();

    private async Task RelayAsync()
    {
        try
        {
            await _source.Task;
        }
        catch (Exception)
        {
            // Copied below with the task's own state.
        }

        _ = _source.Task.Status switch
        {
            TaskStatus.Faulted => _relay.TrySetException(_source.Task.Exception!.InnerExceptions),
            TaskStatus.Canceled => _relay.TrySetCanceled(),
            _ => _relay.TrySetResult(_source.Task.Result),
        };
    }
}
