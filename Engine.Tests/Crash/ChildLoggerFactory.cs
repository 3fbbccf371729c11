using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// The crash child's engine log: every message at Debug and above to stderr, one line each, with milliseconds since
/// the child started, so that the parent can show what the engine last did (which WAL object, which flush) when a
/// cycle fails.
/// </summary>
internal sealed class ChildLoggerFactory : ILoggerFactory
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        var line = $"{Stopwatch.GetElapsedTime(_started).TotalMilliseconds,8:F0} ms {level} {category}: {message}" +
            (exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})");
        lock (_lock)
        {
            Console.Error.WriteLine(line.ReplaceLineEndings(" "));
        }
    }

    private sealed class Logger(ChildLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                factory.Write(category, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
