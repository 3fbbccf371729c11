namespace SlateSharp.Simulation;

/// <summary>
/// The clock of a simulated run: time moves only when the <see cref="Heartbeat"/> moves it, and timers (the engine's
/// retry backoffs: <c>await Task.Delay(backoff, time, token)</c>) fire from the heartbeat, a task Coyote schedules,
/// never from a timer thread. The WAL flush interval is not a timer here (EngineShims/AsyncSignal.cs says why); the
/// heartbeat wakes the WAL writer instead.
/// </summary>
internal sealed class SimulatedClock : TimeProvider
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly System.Threading.Lock _lock = new();
    private readonly List<SimulatedTimer> _timers = [];
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => Start + TimeSpan.FromTicks(GetTimestamp());

    /// <summary>Called when a timer is armed (a backoff started), so the heartbeat knows time is wanted.</summary>
    public Action? Armed { get; set; }

    /// <summary>When the earliest armed timer is due, in ticks, or null.</summary>
    public long? NextDue
    {
        get
        {
            lock (_lock)
            {
                return _timers.Where(t => t.Due is not null).Select(t => t.Due).Min();
            }
        }
    }

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    /// <summary>Moves time to <paramref name="ticks"/> if it is later than now.</summary>
    public void AdvanceTo(long ticks)
    {
        long now;
        while ((now = Interlocked.Read(ref _ticks)) < ticks && Interlocked.CompareExchange(ref _ticks, ticks, now) != now)
        {
        }
    }

    /// <summary>Fires, on the calling task, every armed timer that is due; returns how many fired.</summary>
    public int FireDue()
    {
        var fired = 0;
        while (true)
        {
            SimulatedTimer? next;
            lock (_lock)
            {
                next = _timers.Where(t => t.Due <= _ticks).MinBy(t => t.Due);
                if (next is null)
                {
                    return fired;
                }

                next.Due = null;
            }

            next.Callback(next.State);
            fired++;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SimulatedTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class SimulatedTimer(SimulatedClock clock, TimerCallback callback, object? state) : ITimer
    {
        public TimerCallback Callback { get; } = callback;

        public object? State { get; } = state;

        /// <summary>When it fires, in clock ticks; null while disarmed. Periods are not supported (the engine uses none).</summary>
        public long? Due { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._ticks + Math.Max(0, dueTime.Ticks);
            }

            if (Due is not null)
            {
                clock.Armed?.Invoke();
            }

            return true;
        }

        public void Dispose()
        {
            lock (clock._lock)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// Stands in for the flush-interval timer of every open writer: a beat moves the clock on by one interval, asks each
/// writer's WAL task to upload, as the elapsed interval would, and fires the clock's timers that are due (jumping to
/// the next one when nobody waits for the WAL). It beats a few times at random moments of the run, whenever a user is
/// waiting for a durable write (which nothing else would complete) and while a timer is armed. Between beats it
/// sleeps with Coyote's controlled <c>Task.Delay</c>, which wakes it after a chosen number of scheduling steps or as
/// soon as no other task can run, so it neither crowds the schedule nor starves other tasks under Coyote's unfair
/// strategies; with nothing to do it waits for a waiter. Bounded, so that a run whose tasks wait forever ends in a
/// deadlock Coyote reports rather than beating forever.
/// </summary>
internal sealed class Heartbeat(SimulatedClock clock, Microsoft.Coyote.Random.Generator choices, TimeSpan interval, int spontaneousBeats, int maxBeats)
{
    private readonly List<SimWriter> _writers = [];
    private TaskCompletionSource _wanted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _spontaneous = spontaneousBeats;
    private int _waiters;
    private bool _stopped;

    public int Beats { get; private set; }

    /// <summary>Beats <paramref name="writer"/> until it ends (closed, disposed or crashed).</summary>
    public void Add(SimWriter writer) => _writers.Add(writer);

    /// <summary>A user starts waiting for a durable write; dispose the result when the wait is over.</summary>
    public IDisposable Waiting()
    {
        _waiters++;
        Wake();
        return new Done(this);
    }

    public Task RunAsync() => Task.Run(async () =>
    {
        clock.Armed = Wake;
        while (!_stopped && Beats < maxBeats)
        {
            if (_waiters == 0 && _spontaneous == 0 && clock.NextDue is null)
            {
                var wanted = _wanted.Task;
                await wanted;
                continue;
            }

            // Under Coyote this is not a sleep: it pauses for a few scheduling steps, or until nothing else is enabled.
            await Task.Delay(1 + choices.NextInteger(10));
            if (_stopped)
            {
                break;
            }

            if (_waiters == 0 && clock.NextDue is null)
            {
                _spontaneous = Math.Max(0, _spontaneous - 1);
            }

            Beats++;
            clock.Advance(interval);
            if (_waiters == 0 && clock.NextDue is { } due)
            {
                // Nobody waits for the WAL: let the backoff that is due next end now rather than after many beats.
                clock.AdvanceTo(due);
            }

            clock.FireDue();
            foreach (var writer in _writers.ToArray())
            {
                if (!writer.Ended && writer.Db is { } db)
                {
                    db.Wal.Seal();
                }
            }
        }
    });

    public void Stop()
    {
        _stopped = true;
        Wake();
    }

    private void Wake()
    {
        var wanted = _wanted;
        _wanted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        wanted.TrySetResult();
    }

    private sealed class Done(Heartbeat heartbeat) : IDisposable
    {
        public void Dispose() => heartbeat._waiters--;
    }
}
