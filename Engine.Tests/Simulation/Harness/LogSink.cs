using Microsoft.Extensions.Logging;

namespace SlateSharp.Simulation;

/// <summary>Puts the engine's own log lines (information and above) into the run's <see cref="SimulationLog"/>.</summary>
internal sealed class LogSink(SimulationLog log, string party) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(log, party);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(SimulationLog log, string party) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Add($"   [{party} engine {logLevel.ToString().ToLowerInvariant()}] {formatter(state, exception)}");
            }
        }
    }
}
