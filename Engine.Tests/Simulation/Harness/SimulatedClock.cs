namespace SlateSharp.Simulation;

/// <summary>
/// The clock of a simulated run: time moves only when <see cref="Advance"/> is called, and timers never fire. A
/// timer that fires completes its <c>Task.Delay</c> from the timer's thread, and the framework then finishes the
/// engine's <c>Task.WhenAny(signal, delay)</c> on a thread-pool thread Coyote does not control, so the schedule no
/// longer replays (docs/design/simulation.md). What the engine waits for on a timer (the WAL flush interval) the
/// <see cref="Heartbeat"/> does instead, as a task Coyote schedules.
/// </summary>
internal sealed class SimulatedClock : TimeProvider
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => Start + TimeSpan.FromTicks(GetTimestamp());

    /// <summary>Timers created so far (each <c>Task.Delay</c> on this clock makes one).</summary>
    public int TimersCreated { get; private set; }

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        TimersCreated++;
        return new SilentTimer();
    }

    private sealed class SilentTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// Stands in for the flush-interval timer of every open writer: a beat moves the clock on by one interval and asks
/// each writer's WAL task to upload, as the elapsed interval would. It beats a few times at random moments of the
/// run, and whenever a user is waiting for a durable write (which nothing else would complete). Between beats it
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
        while (!_stopped && Beats < maxBeats)
        {
            if (_waiters == 0 && _spontaneous == 0)
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

            if (_waiters == 0)
            {
                _spontaneous--;
            }

            Beats++;
            clock.Advance(interval);
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
