using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SlateSharp.Tests.TestSupport;

/// <summary>Keeps every message logged through it (category, level, text), for tests of what the engine logs.</summary>
public sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, string Message);

    private sealed class Logger(RecordingLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            factory._entries.Enqueue(new Entry(category, logLevel, formatter(state, exception)));
    }
}
