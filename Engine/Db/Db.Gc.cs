using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Gc;
using SlateSharp.Telemetry;

namespace SlateSharp;

/// <summary>Garbage collection in the writer's process: on demand, and in the background when configured.</summary>
public sealed partial class Db
{
    private Task _gcTask = Task.CompletedTask;

    /// <summary>
    /// Runs one garbage collection of this database now (docs/design/gc-and-readers.md) and reports what it deleted.
    /// Besides what every collector keeps, it keeps every SST a read, scan or view of this process still holds,
    /// whatever its age. <paramref name="options"/> default to <see cref="DbOptions.GarbageCollection"/>, else the
    /// <see cref="GcOptions"/> defaults. Throws <see cref="ErrorKind.Invalid"/> for bad options, and the store's or a
    /// live manifest's error when the collection could not decide safely (it then deleted nothing).
    /// </summary>
    public async ValueTask<GcReport> RunGarbageCollectionAsync(GcOptions? options = null, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var collector = NewGarbageCollector(options ?? _options.GarbageCollection ?? new GcOptions());
        return await collector.RunOnceAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The background loop when <see cref="GcOptions.Interval"/> is set; its failures are logged, never fatal.</summary>
    private Task StartGarbageCollection()
    {
        if (_options.GarbageCollection is not { Interval: { } interval } options)
        {
            return Task.CompletedTask;
        }

        var collector = NewGarbageCollector(options);
        return Task.Run(() =>
        {
            DbTelemetry.DetachFromCaller();
            return collector.RunEveryAsync(interval, null, _background.Token);
        });
    }

    private GarbageCollector NewGarbageCollector(GcOptions options) =>
        new(_store, options, _options.TimeProvider, (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GarbageCollector>(), _pins.Snapshot);
}
