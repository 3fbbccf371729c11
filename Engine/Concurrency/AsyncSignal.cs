namespace SlateSharp.Concurrency;

/// <summary>
/// An auto-reset event for one waiting background task: <see cref="Set"/> wakes the waiter (or the next wait, if
/// none is waiting); many sets before a wait collapse into one wake-up.
/// </summary>
internal sealed class AsyncSignal
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _set;

    public void Set()
    {
        TaskCompletionSource toRelease;
        lock (_lock)
        {
            if (_set)
            {
                return;
            }

            _set = true;
            toRelease = _waiter;
        }

        toRelease.TrySetResult();
    }

    /// <summary>Completes when set (at once if already set), or after <paramref name="timeout"/> on the given clock.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        Task wait;
        lock (_lock)
        {
            if (_set)
            {
                _set = false;
                _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return;
            }

            wait = _waiter.Task;
        }

        if (timeout == Timeout.InfiniteTimeSpan)
        {
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(wait, Task.Delay(timeout, time, timer.Token)).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        lock (_lock)
        {
            if (_set)
            {
                _set = false;
                _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }
}
