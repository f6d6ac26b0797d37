using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Maintenance;

/// <summary>The schedule runs on fake time: the clock only moves when a test advances it.</summary>
public class VacuumSchedulerTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoCycleRunsBeforeTheIntervalAndOneRunsPerInterval()
    {
        var (db, time, cycles, _) = await OpenAsync();
        await using var _db = db;
        var vacuum = db.Get<VacuumService>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var timersBefore = time.DueTimes.Count;

        var running = db.Get<VacuumScheduler>().RunAsync(stop.Token);

        Assert.Equal([Interval], time.DueTimes.Skip(timersBefore));
        Assert.Equal(Start + Interval, vacuum.NextRunAt);

        time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct);
        Assert.Empty(Cycles(cycles));
        Assert.Null(vacuum.LastRun);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await EventuallyAsync(() => vacuum.NextRunAt == Start + 2 * Interval);
        Assert.Single(Cycles(cycles));
        Assert.Equal(Start + Interval, vacuum.LastRun!.CompletedAt);
        Assert.Equal(5, vacuum.LastRun.Pages);

        time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct);
        Assert.Single(Cycles(cycles));

        time.Advance(TimeSpan.FromMilliseconds(1));
        await EventuallyAsync(() => vacuum.NextRunAt == Start + 3 * Interval);
        Assert.Equal(2, Cycles(cycles).Count);
        Assert.Equal(Start + 2 * Interval, vacuum.LastRun.CompletedAt);
        Assert.False(running.IsCompleted);

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    [Fact]
    public async Task FailedCycleIsLoggedAndTheNextTickStillRuns()
    {
        var (db, time, cycles, schedulerLog) = await OpenAsync();
        await using var _db = db;
        var vacuum = db.Get<VacuumService>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = db.Get<VacuumScheduler>().RunAsync(stop.Token);

        // With the database closed under it, the first cycle cannot run.
        await db.Database.DisposeAsync();
        time.Advance(Interval);
        await EventuallyAsync(() => vacuum.NextRunAt == Start + 2 * Interval);

        var failure = Assert.Single(schedulerLog.Entries);
        Assert.Equal(LogLevel.Error, failure.Level);
        Assert.Equal(1011, failure.EventId.Id);
        Assert.Null(vacuum.LastRun);
        Assert.False(running.IsCompleted);

        await db.Database.OpenAsync(Ct);
        time.Advance(Interval);
        await EventuallyAsync(() => vacuum.NextRunAt == Start + 3 * Interval);

        Assert.Single(Cycles(cycles));
        Assert.Equal(Start + 2 * Interval, vacuum.LastRun!.CompletedAt);
        Assert.Single(schedulerLog.Entries);

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    [Fact]
    public async Task CancellationStopsTheSchedulerWithoutWaitingForTheNextTick()
    {
        var (db, time, cycles, schedulerLog) = await OpenAsync();
        await using var _db = db;
        var vacuum = db.Get<VacuumService>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = db.Get<VacuumScheduler>().RunAsync(stop.Token);
        time.Advance(Interval / 2);

        await stop.CancelAsync();
        // The clock does not move: only the cancellation can end the wait.
        await running.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.True(running.IsCompletedSuccessfully);
        Assert.Null(vacuum.NextRunAt);
        time.Advance(Interval);
        await db.Get<StorageInspector>().GetPageStatisticsAsync(Ct);
        Assert.Empty(Cycles(cycles));
        Assert.Null(vacuum.LastRun);
        Assert.Empty(schedulerLog.Entries);
    }

    [Fact]
    public async Task AlreadyCancelledSchedulerReturnsAtOnce()
    {
        var (db, _, cycles, _) = await OpenAsync();
        await using var _db = db;

        await db.Get<VacuumScheduler>().RunAsync(new CancellationToken(canceled: true)).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Null(db.Get<VacuumService>().NextRunAt);
        Assert.Empty(Cycles(cycles));
    }

    private static async Task<(TestDatabase Db, TimerRecordingTimeProvider Time, CapturingLogger<VacuumService> Cycles, CapturingLogger<VacuumScheduler> SchedulerLog)> OpenAsync()
    {
        var time = new TimerRecordingTimeProvider();
        time.Fake.SetUtcNow(Start);
        var cycles = new CapturingLogger<VacuumService>();
        var schedulerLog = new CapturingLogger<VacuumScheduler>();
        var db = await TestDatabase.OpenAsync(
            new Dictionary<string, string?> { ["Vacuum:Interval"] = "01:00:00", ["Vacuum:Pages"] = "5" },
            timeProvider: time,
            configure: services =>
            {
                services.AddSingleton<ILogger<VacuumService>>(cycles);
                services.AddSingleton<ILogger<VacuumScheduler>>(schedulerLog);
            });
        return (db, time, cycles, schedulerLog);
    }

    /// <summary>Completed cycles: the service logs one entry (event 1010) per cycle.</summary>
    private static List<LogEntry> Cycles(CapturingLogger<VacuumService> log) => [.. log.Entries.Where(entry => entry.EventId.Id == 1010)];

    /// <summary>Waits for work the scheduler does on the thread pool after a tick; a hang guard, not a timing assertion.</summary>
    private static async Task EventuallyAsync(Func<bool> condition)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        guard.CancelAfter(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            try
            {
                await Task.Delay(5, guard.Token);
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail("The scheduler did not get there.");
            }
        }
    }
}
