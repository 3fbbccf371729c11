using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace SlateSharp.Bench.Compare;

/// <summary>
/// Shows a running workload: a live Spectre.Console progress bar (ops done, rate, ETA) when stdout is a terminal,
/// a plain line every 5 s when it is redirected (a log file gets no control codes). Progress is counted by the
/// workers through <see cref="Add"/>; the total is ops, or the duration for timed workloads.
/// </summary>
internal sealed class LiveProgress : IAsyncDisposable
{
    private readonly string _label;
    private readonly long _totalOps;
    private readonly TimeSpan? _duration;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _display;
    private long _done;

    public LiveProgress(string label, long totalOps, TimeSpan? duration = null)
    {
        _label = label;
        _totalOps = totalOps;
        _duration = duration;
        _display = Console.IsOutputRedirected ? Task.Run(PlainAsync) : Task.Run(LiveAsync);
    }

    public void Add(long ops) => Interlocked.Add(ref _done, ops);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _display;
        _stop.Dispose();
    }

    private double Fraction => _duration is { } d
        ? Math.Min(1, _clock.Elapsed / d)
        : _totalOps > 0 ? Math.Min(1, (double)Interlocked.Read(ref _done) / _totalOps) : 0;

    private string Line()
    {
        var done = Interlocked.Read(ref _done);
        var seconds = _clock.Elapsed.TotalSeconds;
        var rate = seconds > 0 ? done / seconds : 0;
        var fraction = Fraction;
        var eta = fraction > 0 ? TimeSpan.FromSeconds(seconds / fraction - seconds) : TimeSpan.Zero;
        return string.Create(CultureInfo.InvariantCulture, $"{_label}: {done:N0} ops, {rate:N0} ops/s, {fraction:P0}, ETA {eta:mm\\:ss}");
    }

    private async Task PlainAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Console.WriteLine(Line());
        }
    }

    private Task LiveAsync() => AnsiConsole.Progress()
        .AutoClear(true)
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
        .StartAsync(async context =>
        {
            var task = context.AddTask(Markup.Escape(_label), maxValue: 1000);
            while (!_stop.IsCancellationRequested)
            {
                task.Description = Markup.Escape(Line());
                task.Value = Fraction * 1000;
                try
                {
                    await Task.Delay(200, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            task.StopTask();
        });
}
