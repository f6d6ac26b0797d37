using System.Diagnostics.Metrics;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Telemetry;
using ConsensusApi.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace ConsensusApi.Tests.Domain.Resilience;

public sealed class RetryTelemetryTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();
    private readonly FakeTimeProvider _time = new();
    private readonly CapturingLogger<RetryTelemetry> _log = new();
    private readonly RetryTelemetry _telemetry;

    public RetryTelemetryTests()
    {
        _telemetry = new RetryTelemetry(new ConsensusMetrics(_meters), _time, _log);
    }

    public void Dispose() => _meters.Dispose();

    [Fact]
    public void CountsOperationsRetriesRecoveriesAndExhaustion()
    {
        _telemetry.RecordOperation("read", 0, RetryOutcome.Succeeded);
        _telemetry.RecordRetry("write");
        _telemetry.RecordRetry("write");
        _telemetry.RecordOperation("write", 2, RetryOutcome.Succeeded);
        _telemetry.RecordRetry("write");
        _telemetry.RecordOperation("write", 1, RetryOutcome.Exhausted);
        _telemetry.RecordOperation("write", 0, RetryOutcome.Failed);

        var snapshot = _telemetry.Snapshot();

        Assert.Equal(4, snapshot.Operations);
        Assert.Equal(2, snapshot.RetriedOperations);
        Assert.Equal(3, snapshot.Attempts);
        Assert.Equal(1, snapshot.Recovered);
        Assert.Equal(1, snapshot.Exhausted);
        Assert.Equal(0.5, snapshot.RetryRate);
        Assert.False(snapshot.Alert);
    }

    [Fact]
    public void RetryRateAbove20PercentRaisesTheAlertAndLogsOneWarning()
    {
        RecordMany(7, retries: 0);
        RecordMany(3, retries: 1);

        var snapshot = _telemetry.Snapshot();
        Assert.Equal(0.3, snapshot.RetryRate, precision: 10);
        Assert.True(snapshot.Alert);

        // Still above the threshold: no second warning.
        RecordMany(5, retries: 1);
        Assert.True(_telemetry.Snapshot().Alert);

        var warning = Assert.Single(_log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal("RetryRateHigh", warning.EventId.Name);
        Assert.Contains("30.0", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExactlyTwentyPercentDoesNotAlert()
    {
        RecordMany(8, retries: 0);
        RecordMany(2, retries: 1);

        var snapshot = _telemetry.Snapshot();

        Assert.Equal(0.2, snapshot.RetryRate, precision: 10);
        Assert.False(snapshot.Alert);
        Assert.DoesNotContain(_log.Entries, e => e.Level == LogLevel.Warning);
    }

    [Fact]
    public void FewerThanTenOperationsNeverAlert()
    {
        RecordMany(9, retries: 1);
        Assert.False(_telemetry.Snapshot().Alert);

        RecordMany(1, retries: 1);
        Assert.True(_telemetry.Snapshot().Alert);
    }

    [Fact]
    public void WindowForgetsOperationsOlderThanFiveMinutes()
    {
        RecordMany(10, retries: 1);
        Assert.True(_telemetry.Snapshot().Alert);

        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(10));
        var snapshot = _telemetry.Snapshot();

        Assert.Equal(0, snapshot.WindowOperations);
        Assert.Equal(0, snapshot.RetryRate);
        Assert.False(snapshot.Alert);
        Assert.Equal(10, snapshot.Operations);
        Assert.Equal(10, snapshot.RetriedOperations);
        Assert.Single(_log.Entries, e => e.Level == LogLevel.Information && e.EventId.Name == "RetryRateNormal");
    }

    [Fact]
    public void WindowSlidesOverRecentOperationsOnly()
    {
        RecordMany(10, retries: 1);
        _time.Advance(TimeSpan.FromMinutes(3));
        RecordMany(10, retries: 0);
        Assert.Equal((20, 0.5), (_telemetry.Snapshot().WindowOperations, _telemetry.Snapshot().RetryRate));

        // The first ten are now older than five minutes; the later ten are not.
        _time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(10));
        var snapshot = _telemetry.Snapshot();

        Assert.Equal(10, snapshot.WindowOperations);
        Assert.Equal(0, snapshot.RetryRate);
        Assert.False(snapshot.Alert);
    }

    [Fact]
    public void AlertCanBeRaisedAgainAfterItCleared()
    {
        RecordMany(10, retries: 1);
        _time.Advance(TimeSpan.FromMinutes(6));
        RecordMany(10, retries: 0);
        RecordMany(10, retries: 1);

        Assert.True(_telemetry.Snapshot().Alert);
        Assert.Equal(2, _log.Entries.Count(e => e.Level == LogLevel.Warning));
    }

    [Fact]
    public async Task CountsStayExactUnderConcurrentUse()
    {
        await Parallel.ForAsync(0, 2_000, TestContext.Current.CancellationToken, (i, _) =>
        {
            if (i % 4 == 0)
            {
                _telemetry.RecordRetry("write");
                _telemetry.RecordOperation("write", 1, RetryOutcome.Succeeded);
            }
            else
            {
                _telemetry.RecordOperation("read", 0, RetryOutcome.Succeeded);
            }

            return ValueTask.CompletedTask;
        });

        var snapshot = _telemetry.Snapshot();

        Assert.Equal((2_000, 500, 500, 500), (snapshot.Operations, snapshot.RetriedOperations, snapshot.Attempts, snapshot.Recovered));
        Assert.Equal(0.25, snapshot.RetryRate);
        Assert.True(snapshot.Alert);

        // Interleaving may cross the threshold more than once, but raises and clears alternate.
        var raised = _log.Entries.Count(e => e.EventId.Name == "RetryRateHigh");
        var cleared = _log.Entries.Count(e => e.EventId.Name == "RetryRateNormal");
        Assert.Equal(cleared + 1, raised);
    }

    [Fact]
    public void FeedsTheMeterCountersTaggedWithTheOperation()
    {
        using var meters = new TestMeterFactory();
        var metrics = new ConsensusMetrics(meters);
        var telemetry = new RetryTelemetry(metrics, _time, _log);
        var measurements = new List<(string Instrument, long Value, string? Operation)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this test's meter: other tests create meters of the same name in parallel.
            if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name.StartsWith("consensus.retry.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? operation = null;
            foreach (var tag in tags)
            {
                if (tag.Key == ConsensusMetrics.OperationTag)
                {
                    operation = tag.Value as string;
                }
            }

            lock (measurements)
            {
                measurements.Add((instrument.Name, value, operation));
            }
        });
        listener.Start();

        telemetry.RecordRetry("store_artifact");
        telemetry.RecordOperation("store_artifact", 1, RetryOutcome.Succeeded);
        telemetry.RecordRetry("store_run");
        telemetry.RecordOperation("store_run", 1, RetryOutcome.Exhausted);

        Assert.Equal(
            [
                ("consensus.retry.attempts", 1L, "store_artifact"),
                ("consensus.retry.retried_operations", 1L, "store_artifact"),
                ("consensus.retry.recovered", 1L, "store_artifact"),
                ("consensus.retry.attempts", 1L, "store_run"),
                ("consensus.retry.retried_operations", 1L, "store_run"),
                ("consensus.retry.exhausted", 1L, "store_run"),
            ],
            measurements);
    }

    private void RecordMany(int count, int retries)
    {
        for (var i = 0; i < count; i++)
        {
            for (var r = 0; r < retries; r++)
            {
                _telemetry.RecordRetry("write");
            }

            _telemetry.RecordOperation("write", retries, RetryOutcome.Succeeded);
        }
    }
}
