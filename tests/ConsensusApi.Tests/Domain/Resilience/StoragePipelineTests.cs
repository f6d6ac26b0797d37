using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Telemetry;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Tests.Domain.Resilience;

public sealed class StoragePipelineTests : IDisposable
{
    private readonly TimerRecordingTimeProvider _time = new();
    private readonly TestMeterFactory _meters = new();
    private readonly CapturingLogger<StoragePipeline> _log = new();
    private readonly RetryTelemetry _telemetry;
    private readonly CancellationTokenSource _timeout;

    public StoragePipelineTests()
    {
        _telemetry = new RetryTelemetry(new ConsensusMetrics(_meters), _time, NullLogger<RetryTelemetry>.Instance);

        // A hung test fails after 10 seconds instead of blocking the run.
        _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        _timeout.CancelAfter(TimeSpan.FromSeconds(10));
    }

    private CancellationToken Timeout => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task BusyDatabaseRecoversOnTheThirdTryAndReturnsTheValue()
    {
        var action = new Flaky<int>(_time, call => call <= 2 ? Busy() : null, result: 42);

        var result = await _time.DriveAsync(Pipeline().ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout);

        Assert.Equal(42, result);
        Assert.Equal(3, action.Calls);
        Assert.Equal(
            new RetryTelemetrySnapshot(Operations: 1, RetriedOperations: 1, Attempts: 2, Recovered: 1, Exhausted: 0, WindowOperations: 1, WindowRetriedOperations: 1, RetryRate: 1.0, Alert: false),
            _telemetry.Snapshot());
    }

    [Fact]
    public async Task TimedOutOperationRecoversOnRetry()
    {
        var action = new Flaky<string>(_time, call => call == 1 ? new TimeoutException("pool checkout timed out") : null, result: "stored");

        var result = await _time.DriveAsync(Pipeline().ExecuteAsync("store_run", action.InvokeAsync, Timeout).AsTask(), Timeout);

        Assert.Equal("stored", result);
        Assert.Equal(2, action.Calls);
        Assert.Equal(1, _telemetry.Snapshot().Recovered);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task StopsAfterMaxAttemptsAndReportsStorageUnavailable(int maxAttempts)
    {
        var busy = Busy();
        var action = new Flaky<int>(_time, _ => busy, result: 0);
        var pipeline = Pipeline(o => o.MaxAttempts = maxAttempts);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(
            () => _time.DriveAsync(pipeline.ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout));

        Assert.Equal(maxAttempts, action.Calls);
        Assert.Same(busy, error.InnerException);
        Assert.True(error.RetryAfter >= TimeSpan.FromSeconds(1), $"RetryAfter was {error.RetryAfter}");
        Assert.Contains($"after {maxAttempts} attempts", error.Message, StringComparison.Ordinal);
        var snapshot = _telemetry.Snapshot();
        Assert.Equal((1, maxAttempts - 1, 1, 0), (snapshot.Operations, snapshot.Attempts, snapshot.Exhausted, snapshot.Recovered));
    }

    [Fact]
    public async Task ExhaustedRetryAfterIsTheNextBackoffWhenThatIsLonger()
    {
        var action = new Flaky<int>(_time, _ => Busy(), result: 0);
        var pipeline = Pipeline(o =>
        {
            o.MaxAttempts = 2;
            o.InitialBackoffMs = 2_000;
        });

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(
            () => _time.DriveAsync(pipeline.ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout));

        // Waited 2 s before the second try; the next wait would have been 4 s.
        Assert.Equal([TimeSpan.FromSeconds(2)], _time.DueTimes);
        Assert.Equal(TimeSpan.FromSeconds(4), error.RetryAfter);
    }

    [Fact]
    public async Task PermanentErrorsAreThrownUnchangedAfterOneCall()
    {
        Exception[] failures =
        [
            new SqliteException("UNIQUE constraint failed: runs.id", 2067),
            new SqliteException("no such table: runs", 1),
            new NotFoundException("no such run"),
            DomainValidationException.For("stage", "unknown stage"),
            new UnauthorizedAccessException("read-only database file"),
            new InvalidOperationException("bug"),
        ];
        var pipeline = Pipeline();

        foreach (var failure in failures)
        {
            var action = new Flaky<int>(_time, _ => failure, result: 0);

            var thrown = await Assert.ThrowsAnyAsync<Exception>(() => pipeline.ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask());

            Assert.Same(failure, thrown);
            Assert.Equal(1, action.Calls);
        }

        Assert.Empty(_time.DueTimes);
        Assert.Equal((6, 0, 0), (_telemetry.Snapshot().Operations, _telemetry.Snapshot().Attempts, _telemetry.Snapshot().Exhausted));
    }

    [Fact]
    public async Task FullDatabaseBecomesStorageFullWithoutRetry()
    {
        var full = new SqliteException("database or disk is full", 13);
        var action = new Flaky<int>(_time, _ => full, result: 0);

        var error = await Assert.ThrowsAsync<StorageFullException>(
            () => Pipeline().ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask());

        Assert.Same(full, error.InnerException);
        Assert.Equal(1, action.Calls);
        Assert.Equal(0, _telemetry.Snapshot().Exhausted);
    }

    [Fact]
    public async Task DegradedConsensusIsRetriedExactlyOnce()
    {
        var degraded = new DegradedConsensusException("2 of 3 agents agreed");
        var action = new Flaky<int>(_time, _ => degraded, result: 0);

        var thrown = await Assert.ThrowsAsync<DegradedConsensusException>(
            () => _time.DriveAsync(Pipeline(o => o.MaxAttempts = 5).ExecuteAsync("synthesize", action.InvokeAsync, Timeout).AsTask(), Timeout));

        Assert.Same(degraded, thrown);
        Assert.Equal(2, action.Calls);
    }

    [Fact]
    public async Task DegradedConsensusAfterABusyRetryStillGetsItsOneRetry()
    {
        var action = new Flaky<int>(_time, call => call == 1 ? Busy() : new DegradedConsensusException("2 of 3"), result: 0);

        await Assert.ThrowsAsync<DegradedConsensusException>(
            () => _time.DriveAsync(Pipeline(o => o.MaxAttempts = 5).ExecuteAsync("synthesize", action.InvokeAsync, Timeout).AsTask(), Timeout));

        Assert.Equal(3, action.Calls);
    }

    [Fact]
    public async Task DegradedConsensusThatRecoversReturnsTheValue()
    {
        var action = new Flaky<int>(_time, call => call == 1 ? new DegradedConsensusException("2 of 3") : null, result: 3);

        var result = await _time.DriveAsync(Pipeline().ExecuteAsync("synthesize", action.InvokeAsync, Timeout).AsTask(), Timeout);

        Assert.Equal(3, result);
        Assert.Equal(2, action.Calls);
    }

    [Fact]
    public async Task CallerCancellingDuringBackoffStopsWithoutAnotherTry()
    {
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var action = new Flaky<int>(_time, _ => Busy(), result: 0);

        var running = Pipeline().ExecuteAsync("store_artifact", action.InvokeAsync, caller.Token).AsTask();
        Assert.Equal(TimeSpan.FromMilliseconds(100), await _time.NextTimerAsync(Timeout));
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Timeout));
        Assert.Equal(1, action.Calls);
        Assert.Equal((1, 0), (_telemetry.Snapshot().Operations, _telemetry.Snapshot().Exhausted));
    }

    [Fact]
    public async Task CancellationOfTheCallersTokenInsideTheActionIsNotRetried()
    {
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var calls = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Pipeline().ExecuteAsync<int>(
            "store_artifact",
            async ct =>
            {
                calls++;
                await caller.CancelAsync();
                ct.ThrowIfCancellationRequested();
                return 1;
            },
            caller.Token).AsTask());

        Assert.Equal(1, calls);
        Assert.Empty(_time.DueTimes);
    }

    [Fact]
    public async Task CancellationThatIsNotTheCallersIsPermanentAndPropagatesUnchanged()
    {
        var cancelled = new OperationCanceledException("an inner operation gave up");
        var action = new Flaky<int>(_time, _ => cancelled, result: 0);

        var thrown = await Assert.ThrowsAsync<OperationCanceledException>(
            () => Pipeline().ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask());

        Assert.Same(cancelled, thrown);
        Assert.Equal(1, action.Calls);
    }

    [Fact]
    public async Task MaxElapsedStopsRetryingBeforeMaxAttempts()
    {
        var action = new Flaky<int>(_time, _ => Busy(), result: 0);
        var pipeline = Pipeline(o =>
        {
            o.MaxAttempts = 10;
            o.MaxElapsedMs = 250;
        });

        await Assert.ThrowsAsync<StorageUnavailableException>(
            () => _time.DriveAsync(pipeline.ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout));

        // Waiting 100 ms fits the 250 ms budget; waiting another 200 ms (until 300 ms) would not.
        Assert.Equal(2, action.Calls);
        Assert.Equal([TimeSpan.FromMilliseconds(100)], _time.DueTimes);
        Assert.Equal(1, _telemetry.Snapshot().Exhausted);
    }

    [Fact]
    public async Task MaxElapsedCountsTimeSpentInsideTheOperation()
    {
        // Each try takes 600 ms of (fake) time before failing.
        var action = new Flaky<int>(_time, _ => Busy(), result: 0, duration: TimeSpan.FromMilliseconds(600));
        var pipeline = Pipeline(o =>
        {
            o.MaxAttempts = 10;
            o.MaxElapsedMs = 1_000;
        });

        await Assert.ThrowsAsync<StorageUnavailableException>(
            () => _time.DriveAsync(pipeline.ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout));

        // 600 + 100 ms fits in 1 s, so a second try starts at 700 ms; at 1,300 ms the budget is spent.
        Assert.Equal(2, action.Calls);
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromMilliseconds(700)], action.CallOffsets);
    }

    [Fact]
    public async Task NextTryHappensOnlyAfterTheBackoffHasElapsed()
    {
        var action = new Flaky<int>(_time, call => call <= 2 ? Busy() : null, result: 42);

        var running = Pipeline().ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask();

        Assert.Equal(TimeSpan.FromMilliseconds(100), await _time.NextTimerAsync(Timeout));
        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Equal(1, action.Calls);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        // The second try fails and schedules the next delay, which proves it ran.
        Assert.Equal(TimeSpan.FromMilliseconds(200), await _time.NextTimerAsync(Timeout));
        Assert.Equal(2, action.Calls);
        _time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.Equal(2, action.Calls);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(42, await running.WaitAsync(Timeout));
        Assert.Equal(
            [TimeSpan.Zero, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300)],
            action.CallOffsets);
    }

    [Fact]
    public async Task BackoffFollowsTheExponentialCurveUntilMaxAttempts()
    {
        var action = new Flaky<int>(_time, _ => Busy(), result: 0);

        await Assert.ThrowsAsync<StorageUnavailableException>(
            () => _time.DriveAsync(Pipeline(o => o.MaxAttempts = 6).ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout));

        Assert.Equal([0, 100, 300, 700, 1_500, 3_100], action.CallOffsets.Select(t => t.TotalMilliseconds));
    }

    [Fact]
    public async Task JitterComesFromTheRandomSourceAndSpreadsTheDelays()
    {
        var randoms = new Queue<double>([0.0, 0.75, 0.999]);
        var action = new Flaky<int>(_time, _ => Busy(), result: 0);
        var pipeline = Pipeline(o => (o.MaxAttempts, o.JitterFactor) = (4, 0.5), random: randoms.Dequeue);

        await Assert.ThrowsAsync<StorageUnavailableException>(
            () => _time.DriveAsync(pipeline.ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout));

        // 100 ms * 0.5, 200 ms * 1.25, 400 ms * 1.499 = 599.6 ms; timers run at whole milliseconds.
        Assert.Equal([50, 250, 599], _time.DueTimes.Select(t => t.TotalMilliseconds));
    }

    [Fact]
    public async Task SuggestedRetryAfterReplacesTheBackoffAndIsCapped()
    {
        var action = new Flaky<int>(_time, call => call switch
        {
            1 => new StorageUnavailableException("no free connection", TimeSpan.FromSeconds(2)),
            2 => new StorageUnavailableException("no free connection", TimeSpan.FromSeconds(30)),
            _ => null,
        }, result: 7);

        var result = await _time.DriveAsync(Pipeline().ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout);

        Assert.Equal(7, result);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10)], _time.DueTimes);
    }

    [Fact]
    public async Task NonGenericOverloadRetriesToo()
    {
        var calls = 0;

        await _time.DriveAsync(
            Pipeline().ExecuteAsync(
                "delete_run",
                _ =>
                {
                    calls++;
                    return calls == 1 ? ValueTask.FromException(new SqliteException("database table is locked", 6)) : ValueTask.CompletedTask;
                },
                Timeout).AsTask(),
            Timeout);

        Assert.Equal(2, calls);
        Assert.Equal(1, _telemetry.Snapshot().Recovered);
    }

    [Fact]
    public async Task EachRetryIsLoggedAtDebugWithReasonAndDelay()
    {
        var action = new Flaky<int>(_time, call => call <= 2 ? Busy() : null, result: 1);

        await _time.DriveAsync(Pipeline().ExecuteAsync("store_artifact", action.InvokeAsync, Timeout).AsTask(), Timeout);

        var retries = _log.Entries.Where(e => e.EventId.Name == "RetryScheduled").ToList();
        Assert.All(retries, e => Assert.Equal(LogLevel.Debug, e.Level));
        Assert.Equal(
            [
                "store_artifact failed (database busy); retry 1 of 2 in 100 ms",
                "store_artifact failed (database busy); retry 2 of 2 in 200 ms",
            ],
            retries.Select(e => e.Message));
    }

    [Fact]
    public async Task OnePipelineServesConcurrentOperations()
    {
        var pipeline = Pipeline();
        var actions = Enumerable.Range(0, 20)
            .Select(i => new Flaky<int>(_time, call => call == 1 && i % 2 == 0 ? Busy() : null, result: i))
            .ToList();

        var results = await _time.DriveAsync(
            Task.WhenAll(actions.Select(a => pipeline.ExecuteAsync("store_artifact", a.InvokeAsync, Timeout).AsTask())),
            Timeout);

        Assert.Equal(Enumerable.Range(0, 20), results);
        var snapshot = _telemetry.Snapshot();
        Assert.Equal((20, 10, 10, 10), (snapshot.Operations, snapshot.RetriedOperations, snapshot.Attempts, snapshot.Recovered));
        Assert.True(snapshot.Alert);
    }

    private static SqliteException Busy() => new("database is locked", 5);

    private StoragePipeline Pipeline(Action<RetryOptions>? configure = null, Func<double>? random = null)
    {
        var options = new RetryOptions { JitterFactor = 0 };
        configure?.Invoke(options);
        return new StoragePipeline(Options.Create(options), _time, _telemetry, _log, random);
    }

    /// <summary>
    /// An action that fails on the calls for which <c>failure</c> returns an exception and
    /// otherwise returns <c>result</c>; it records when (in fake time) each call started.
    /// </summary>
    private sealed class Flaky<T>(TimerRecordingTimeProvider time, Func<int, Exception?> failure, T result, TimeSpan duration = default)
    {
        private readonly DateTimeOffset _start = time.GetUtcNow();
        private readonly List<TimeSpan> _callOffsets = [];
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public IReadOnlyList<TimeSpan> CallOffsets
        {
            get
            {
                lock (_callOffsets)
                {
                    return [.. _callOffsets];
                }
            }
        }

        public ValueTask<T> InvokeAsync(CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls);
            lock (_callOffsets)
            {
                _callOffsets.Add(time.GetUtcNow() - _start);
            }

            if (duration > TimeSpan.Zero)
            {
                time.Advance(duration);
            }

            return failure(call) is { } error ? ValueTask.FromException<T>(error) : ValueTask.FromResult(result);
        }
    }
}
