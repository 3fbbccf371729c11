namespace SlateSharp.Tests.Reader;

/// <summary>
/// A clock that moves only when told to, and whose timers fire only when <see cref="Advance"/> passes their due time
/// (unlike <c>ManualTimeProvider</c>, whose timers fire at once). <see cref="WhenArmedAsync"/> tells when a timer is
/// waiting, so a test can advance past exactly the wait it means to end.
/// </summary>
public sealed class StepClock : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<StepTimer> _timers = [];
    private readonly List<(TimeSpan DueTime, TaskCompletionSource Armed)> _armWaiters = [];
    private DateTimeOffset _now = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>Moves the clock and fires every timer now due.</summary>
    public void Advance(TimeSpan by)
    {
        List<StepTimer> due;
        lock (_lock)
        {
            _now += by;
            due = [.. _timers.Where(t => t.Due <= _now)];
            foreach (var timer in due)
            {
                _timers.Remove(timer);
            }
        }

        foreach (var timer in due)
        {
            ThreadPool.QueueUserWorkItem(_ => timer.Fire());
        }
    }

    /// <summary>Completes when a timer of <paramref name="dueTime"/> is armed (at once if one is).</summary>
    public Task WhenArmedAsync(TimeSpan dueTime)
    {
        lock (_lock)
        {
            if (_timers.Any(t => t.DueTime == dueTime))
            {
                return Task.CompletedTask;
            }

            var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _armWaiters.Add((dueTime, armed));
            return armed.Task;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new StepTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void Arm(StepTimer timer, TimeSpan dueTime)
    {
        List<TaskCompletionSource> released = [];
        lock (_lock)
        {
            _timers.Remove(timer);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            timer.DueTime = dueTime;
            timer.Due = _now + dueTime;
            _timers.Add(timer);
            _armWaiters.RemoveAll(w =>
            {
                if (w.DueTime != dueTime)
                {
                    return false;
                }

                released.Add(w.Armed);
                return true;
            });
        }

        foreach (var armed in released)
        {
            armed.TrySetResult();
        }
    }

    private void Disarm(StepTimer timer)
    {
        lock (_lock)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class StepTimer(StepClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset Due { get; set; }

        public TimeSpan DueTime { get; set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            clock.Arm(this, dueTime);
            return true;
        }

        public void Dispose() => clock.Disarm(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
