using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace ConsensusApi.Domain.Resilience;

/// <summary>
/// Runs storage operations with retries: one Polly retry strategy built once from
/// <see cref="RetryOptions"/>, asking <see cref="ErrorClassifier"/> what to retry and
/// <see cref="RetryDelay"/> how long to wait. Register as a singleton.
/// </summary>
/// <remarks>
/// <para>
/// The action is the whole unit of work (open the transaction, run it, commit) and is invoked
/// again from the start on each retry, so it must not keep state from a failed try.
/// </para>
/// <para>
/// Outcomes: a retryable failure still present when <see cref="RetryOptions.MaxAttempts"/> or
/// <see cref="RetryOptions.MaxElapsedMs"/> runs out becomes a <see cref="StorageUnavailableException"/>;
/// SQLITE_FULL becomes a <see cref="StorageFullException"/> (not retried); a cancelled caller gets
/// its <see cref="OperationCanceledException"/>; every other exception, including a
/// <see cref="DegradedConsensusException"/> that failed its one retry, propagates unchanged.
/// </para>
/// </remarks>
public sealed class StoragePipeline
{
    private static readonly ResiliencePropertyKey<OperationState> StateKey = new("ConsensusApi.Retry.Operation");
    private static readonly TimeSpan MinimumRetryAfter = TimeSpan.FromSeconds(1);

    private readonly RetryOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly RetryTelemetry _telemetry;
    private readonly ILogger<StoragePipeline> _logger;
    private readonly Func<double> _random01;
    private readonly ResiliencePipeline _pipeline;

    /// <summary>Builds the pipeline from the options' current value.</summary>
    /// <param name="options">Retry settings (section <c>Retry</c>), read once.</param>
    /// <param name="timeProvider">Clock for delays and the elapsed-time budget.</param>
    /// <param name="telemetry">Receives attempts and operation outcomes.</param>
    /// <param name="logger">Receives one debug entry per retry.</param>
    /// <param name="random01">Source of jitter in [0, 1); defaults to <see cref="Random.Shared"/>.</param>
    public StoragePipeline(
        IOptions<RetryOptions> options,
        TimeProvider timeProvider,
        RetryTelemetry telemetry,
        ILogger<StoragePipeline> logger,
        Func<double>? random01 = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _timeProvider = timeProvider;
        _telemetry = telemetry;
        _logger = logger;
        _random01 = random01 ?? Random.Shared.NextDouble;

        var builder = new ResiliencePipelineBuilder { Name = "storage", TimeProvider = timeProvider };

        // Polly requires at least one retry; MaxAttempts = 1 simply means no retry strategy.
        if (_options.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = _options.MaxAttempts - 1,

                // Our DelayGenerator owns multiplier, cap and jitter; Polly's own backoff stays out.
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                Delay = TimeSpan.Zero,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome.Exception, args.Context, args.AttemptNumber)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(NextDelay(args.Context, args.AttemptNumber)),
                OnRetry = args =>
                {
                    OnRetry(args.Context, args.AttemptNumber, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        _pipeline = builder.Build();
    }

    /// <summary>Runs <paramref name="action"/>, retrying transient failures.</summary>
    /// <typeparam name="T">The action's result.</typeparam>
    /// <param name="operation">A short, stable name (e.g. <c>store_artifact</c>): metric tag and log field.</param>
    /// <param name="action">The whole unit of work; receives the caller's token.</param>
    /// <param name="cancellationToken">Cancels the action and any pending delay; never retried.</param>
    /// <returns>The action's result.</returns>
    /// <exception cref="StorageUnavailableException">A retryable failure outlasted every retry.</exception>
    /// <exception cref="StorageFullException">The database or the disk is full.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<T> ExecuteAsync<T>(string operation, Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(operation);
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(operation, static (context, run) => run(context.CancellationToken), action, cancellationToken);
    }

    /// <summary>Runs <paramref name="action"/>, retrying transient failures.</summary>
    /// <param name="operation">A short, stable name (e.g. <c>delete_run</c>): metric tag and log field.</param>
    /// <param name="action">The whole unit of work; receives the caller's token.</param>
    /// <param name="cancellationToken">Cancels the action and any pending delay; never retried.</param>
    /// <returns>A task that completes when the action has succeeded.</returns>
    /// <exception cref="StorageUnavailableException">A retryable failure outlasted every retry.</exception>
    /// <exception cref="StorageFullException">The database or the disk is full.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask ExecuteAsync(string operation, Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(operation);
        ArgumentNullException.ThrowIfNull(action);
        return RunWithoutResultAsync(operation, action, cancellationToken);
    }

    private async ValueTask<TResult> RunAsync<TResult, TState>(
        string operation,
        Func<ResilienceContext, TState, ValueTask<TResult>> callback,
        TState state,
        CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        var operationState = new OperationState(_timeProvider.GetTimestamp());
        context.Properties.Set(StateKey, operationState);
        try
        {
            var result = await _pipeline.ExecuteAsync(callback, context, state);
            _telemetry.RecordOperation(operation, operationState.Retries, RetryOutcome.Succeeded);
            if (operationState.Retries > 0)
            {
                ResilienceLog.RetryRecovered(_logger, operation, operationState.Retries);
            }

            return result;
        }
        catch (Exception exception)
        {
            var translated = Translate(operation, operationState, exception, cancellationToken);
            if (translated is null)
            {
                throw;
            }

            throw translated;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask RunWithoutResultAsync(string operation, Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken) =>
        await RunAsync(
            operation,
            static async (context, run) =>
            {
                await run(context.CancellationToken);
                return true;
            },
            action,
            cancellationToken);

    private bool ShouldRetry(Exception? exception, ResilienceContext context, int attemptNumber)
    {
        // A successful outcome or the caller's own cancellation is never retried. Polly also asks
        // after the last attempt; answering early there saves planning a retry that cannot happen.
        if (exception is null
            || attemptNumber >= _options.MaxAttempts - 1
            || (exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested))
        {
            return false;
        }

        var classification = ErrorClassifier.Classify(exception);
        if (!classification.IsRetryable)
        {
            return false;
        }

        var state = context.Properties.GetValue(StateKey, null!);
        if (classification.Class == ErrorClass.Degraded && state.DegradedRetried)
        {
            return false;
        }

        var delay = RetryDelay.Compute(_options, attemptNumber + 1, _random01(), classification.SuggestedDelay);
        if (_options.MaxElapsedMs is { } budgetMs
            && _timeProvider.GetElapsedTime(state.StartTimestamp) + delay > TimeSpan.FromMilliseconds(budgetMs))
        {
            return false;
        }

        state.PlannedDelay = delay;
        state.Reason = classification.Reason;
        state.PendingDegradedRetry = classification.Class == ErrorClass.Degraded;
        return true;
    }

    // The delay is computed (RetryDelay.Compute for retry attemptNumber + 1, honouring the
    // classification's suggestion) in ShouldRetry, because the MaxElapsedMs budget must know it
    // before deciding; this generator hands that same value to Polly.
    private TimeSpan NextDelay(ResilienceContext context, int attemptNumber)
    {
        var state = context.Properties.GetValue(StateKey, null!);
        return state.PlannedDelay ?? RetryDelay.Compute(_options, attemptNumber + 1, _random01());
    }

    private void OnRetry(ResilienceContext context, int attemptNumber, TimeSpan delay)
    {
        var state = context.Properties.GetValue(StateKey, null!);
        var operation = context.OperationKey ?? "unnamed";
        state.Retries++;
        state.DegradedRetried |= state.PendingDegradedRetry;
        state.PlannedDelay = null;
        _telemetry.RecordRetry(operation);
        ResilienceLog.RetryScheduled(_logger, operation, state.Reason, attemptNumber + 1, _options.MaxAttempts - 1, delay.TotalMilliseconds);
    }

    private Exception? Translate(string operation, OperationState state, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            _telemetry.RecordOperation(operation, state.Retries, RetryOutcome.Failed);
            return null;
        }

        if (exception is SqliteException sqlite && ErrorClassifier.PrimaryCode(sqlite) == ErrorClassifier.SqliteFull)
        {
            _telemetry.RecordOperation(operation, state.Retries, RetryOutcome.Failed);
            return new StorageFullException("The database or the disk holding it is full.", exception);
        }

        var classification = ErrorClassifier.Classify(exception);
        if (!classification.IsRetryable)
        {
            _telemetry.RecordOperation(operation, state.Retries, RetryOutcome.Failed);
            return null;
        }

        var attempts = state.Retries + 1;
        _telemetry.RecordOperation(operation, state.Retries, RetryOutcome.Exhausted);
        ResilienceLog.RetriesExhausted(_logger, operation, classification.Reason, attempts);
        if (classification.Class == ErrorClass.Degraded)
        {
            return null;
        }

        var retryAfter = classification.SuggestedDelay
            ?? RetryDelay.Compute(_options, attempts, 0.5);
        if (retryAfter < MinimumRetryAfter)
        {
            retryAfter = MinimumRetryAfter;
        }

        return new StorageUnavailableException(
            $"Storage is busy ({classification.Reason}); {operation} gave up after {attempts} attempts.",
            retryAfter,
            exception);
    }

    // Per-execution bookkeeping, kept in the ResilienceContext so the shared strategy stays stateless.
    private sealed class OperationState(long startTimestamp)
    {
        public long StartTimestamp { get; } = startTimestamp;

        public int Retries { get; set; }

        public bool DegradedRetried { get; set; }

        public bool PendingDegradedRetry { get; set; }

        public TimeSpan? PlannedDelay { get; set; }

        public string Reason { get; set; } = string.Empty;
    }
}
