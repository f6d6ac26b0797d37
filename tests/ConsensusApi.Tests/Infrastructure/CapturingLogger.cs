using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>A logger that keeps every entry so tests can assert on levels, event ids and messages.</summary>
public sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue(new LogEntry(logLevel, eventId, formatter(state, exception)));
    }
}

/// <summary>One captured log entry.</summary>
public sealed record LogEntry(LogLevel Level, EventId EventId, string Message);
