namespace SlateSharp.Concurrency;

/// <summary>
/// A broadcast signal for many waiters (writers waiting for memory, callers waiting for a flush): every
/// <see cref="PulseAll"/> releases everyone waiting at that moment, who then re-check their condition.
/// </summary>
internal sealed class AsyncGate
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A task that completes at the next pulse.</summary>
    public Task NextPulse => Volatile.Read(ref _next).Task;

    public void PulseAll()
    {
        var released = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        released.TrySetResult();
    }
}
