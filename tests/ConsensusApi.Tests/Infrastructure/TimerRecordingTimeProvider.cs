using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>
/// Fake time that also reports every timer created on it (for example by <c>Task.Delay</c>),
/// so a test can wait until code under test has scheduled its delay, see how long it asked for,
/// and only then advance the clock.
/// </summary>
public sealed class TimerRecordingTimeProvider : TimeProvider
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();
    private readonly List<TimeSpan> _dueTimes = [];

    public FakeTimeProvider Fake { get; } = new();

    /// <summary>The due time of every timer created so far, in order.</summary>
    public IReadOnlyList<TimeSpan> DueTimes
    {
        get
        {
            lock (_dueTimes)
            {
                return [.. _dueTimes];
            }
        }
    }

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = Fake.CreateTimer(callback, state, dueTime, period);
        lock (_dueTimes)
        {
            _dueTimes.Add(dueTime);
        }

        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits for the next timer to be created and returns its due time.</summary>
    public ValueTask<TimeSpan> NextTimerAsync(CancellationToken cancellationToken) => _timers.Reader.ReadAsync(cancellationToken);

    /// <summary>Moves the fake clock, firing the timers that come due.</summary>
    public void Advance(TimeSpan delta) => Fake.Advance(delta);

    /// <summary>
    /// Awaits <paramref name="task"/>, advancing the clock by exactly each delay the code under
    /// test schedules, until the task completes.
    /// </summary>
    public async Task<T> DriveAsync<T>(Task<T> task, CancellationToken cancellationToken)
    {
        await DriveAsync((Task)task, cancellationToken);
        return await task;
    }

    /// <inheritdoc cref="DriveAsync{T}(Task{T}, CancellationToken)"/>
    public async Task DriveAsync(Task task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        while (!task.IsCompleted)
        {
            using var waitForTimer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var timer = NextTimerAsync(waitForTimer.Token).AsTask();
            var first = await Task.WhenAny(task, timer).WaitAsync(cancellationToken);
            if (first != task)
            {
                Advance(await timer);
                continue;
            }

            // The task finished first: stop the pending read so it cannot swallow a later timer.
            await waitForTimer.CancelAsync();
        }

        await task;
    }
}
