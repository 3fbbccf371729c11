namespace SlateSharp.Concurrency;

/// <summary>
/// Simulation build only: replaces Engine/Concurrency/AsyncSignal.cs (EngineShims.targets removes that file from this
/// build). Same contract (an auto-reset event for one waiting task; sets before a wait collapse into one wake-up),
/// except that a timeout never elapses: the simulated clock's timers never fire, and the harness's heartbeat wakes
/// the WAL writer with <c>Seal()</c> where its flush interval would have. The engine's version waits on
/// <c>Task.WhenAny(signal, Task.Delay(timeout, time, token))</c>; when the token is cancelled while the delay is
/// pending (every close cancels the WAL writer's wait), the framework completes that WhenAny on a thread-pool thread
/// Coyote does not control, and the schedule no longer replays (docs/design/simulation.md).
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

    /// <summary>Completes when set (at once if already set); <paramref name="timeout"/> and <paramref name="time"/> are not used here.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        _ = (timeout, time);
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

        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
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
