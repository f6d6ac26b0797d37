using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Sockets;
using ConsensusApi.Domain.Errors;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Resilience;

/// <summary>
/// The one place that decides whether a failure is worth retrying. Used by the storage
/// pipeline and by HTTP clients alike.
/// </summary>
/// <remarks>
/// Retryable: SQLite busy and locked (any extended code of those), timeouts, HTTP 408, 429,
/// 502, 503, 504 and other 5xx, refused connections, <see cref="StorageUnavailableException"/>.
/// Degraded: <see cref="DegradedConsensusException"/>. Everything else is permanent, including
/// a plain <see cref="OperationCanceledException"/>: a cancelled caller is never retried.
/// </remarks>
public static class ErrorClassifier
{
    /// <summary>Primary result code SQLITE_BUSY: another connection holds a conflicting lock.</summary>
    public const int SqliteBusy = 5;

    /// <summary>Primary result code SQLITE_LOCKED: a conflict inside the same connection or shared cache.</summary>
    public const int SqliteLocked = 6;

    /// <summary>Primary result code SQLITE_FULL: the database or the disk is full.</summary>
    public const int SqliteFull = 13;

    /// <summary>Primary result code SQLITE_CONSTRAINT: a UNIQUE, NOT NULL, CHECK or foreign key violation.</summary>
    public const int SqliteConstraint = 19;

    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    /// <summary>Classifies an exception.</summary>
    /// <param name="exception">The failure.</param>
    /// <returns>Its class, a short reason and any delay it suggested.</returns>
    public static ErrorClassification Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);

        return exception switch
        {
            SqliteException sqlite => ClassifySqlite(PrimaryCode(sqlite)),
            TimeoutException => Retryable("timeout"),

            // HttpClient reports its own timeout as a TaskCanceledException wrapping a TimeoutException;
            // any other cancellation means the caller gave up and must not be retried.
            OperationCanceledException { InnerException: TimeoutException } => Retryable("timeout"),
            OperationCanceledException => Permanent("cancelled"),
            HttpRequestException http => ClassifyHttpRequest(http),
            SocketException socket => ClassifySocket(socket),
            UnauthorizedAccessException => Permanent("access denied"),
            DegradedConsensusException => new ErrorClassification(ErrorClass.Degraded, "degraded consensus"),
            StorageUnavailableException unavailable => Retryable(
                "storage unavailable",
                unavailable.RetryAfter >= TimeSpan.Zero ? unavailable.RetryAfter : null),
            StorageFullException => Permanent("storage full"),
            NotFoundException => Permanent("not found"),
            DomainValidationException => Permanent("invalid input"),
            ConflictException => Permanent("conflict"),
            ContentTooLargeException => Permanent("content too large"),
            DatabaseStartupException => Permanent("database unusable"),
            AggregateException aggregate => ClassifyAggregate(aggregate),
            _ => Permanent("unexpected error"),
        };
    }

    /// <summary>Classifies an HTTP response status.</summary>
    /// <param name="status">The response status.</param>
    /// <param name="retryAfter">
    /// The response's <c>Retry-After</c> (see <see cref="RetryAfterFrom"/>), honoured for 429 and 503.
    /// </param>
    /// <returns>
    /// 408, 429, 502, 503, 504 and every other 5xx but 507 (storage full) are retryable; 4xx are permanent (401/403 as
    /// "authentication/authorization"). A 1xx, 2xx or 3xx status is not a failure and is classified
    /// permanent, because repeating the request cannot improve it.
    /// </returns>
    public static ErrorClassification Classify(HttpStatusCode status, TimeSpan? retryAfter = null)
    {
        var code = (int)status;
        return code switch
        {
            429 => Retryable("rate limited", NonNegative(retryAfter)),
            503 => Retryable("service unavailable", NonNegative(retryAfter)),
            408 => Retryable("request timeout"),
            502 => Retryable("bad gateway"),
            504 => Retryable("gateway timeout"),
            401 or 403 => Permanent("authentication/authorization"),
            400 or 422 => Permanent("invalid input"),
            404 => Permanent("not found"),
            409 => Permanent("conflict"),
            413 => Permanent("content too large"),
            507 => Permanent("storage full"),
            >= 500 and <= 599 => Retryable("server error"),
            >= 400 and <= 499 => Permanent("client error"),
            _ => Permanent("not an error status"),
        };
    }

    /// <summary>Reads a <c>Retry-After</c> header as a delay from <paramref name="now"/>.</summary>
    /// <param name="header">The header (delta-seconds or HTTP-date form), or <see langword="null"/>.</param>
    /// <param name="now">The current time, from the caller's <see cref="TimeProvider"/>.</param>
    /// <returns>
    /// <see langword="null"/> without a usable header; <see cref="TimeSpan.Zero"/> for a date in
    /// the past or a negative delta; otherwise the delay.
    /// </returns>
    public static TimeSpan? RetryAfterFrom(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header?.Delta is { } delta)
        {
            return delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
        }

        if (header?.Date is { } date)
        {
            var wait = date - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>The primary result code (low byte) of an SQLite error, e.g. 5 for SQLITE_BUSY_SNAPSHOT (517).</summary>
    internal static int PrimaryCode(SqliteException exception) => exception.SqliteErrorCode & 0xFF;

    private static ErrorClassification ClassifySqlite(int primaryCode) => primaryCode switch
    {
        SqliteBusy => Retryable("database busy"),
        SqliteLocked => Retryable("database locked"),
        SqliteFull => Permanent("storage full"),
        SqliteConstraint => Permanent("constraint violation"),
        SqliteCorrupt or SqliteNotADatabase => Permanent("database corrupt"),
        _ => Permanent("database error"),
    };

    private static ErrorClassification ClassifyHttpRequest(HttpRequestException exception)
    {
        if (exception.StatusCode is { } status)
        {
            return Classify(status);
        }

        if (exception.HttpRequestError == HttpRequestError.ConnectionError)
        {
            return Retryable("connection refused");
        }

        return exception.InnerException switch
        {
            SocketException socket => ClassifySocket(socket),
            TimeoutException => Retryable("timeout"),
            _ => Permanent("request failed"),
        };
    }

    private static ErrorClassification ClassifySocket(SocketException exception) => exception.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => Retryable("connection refused"),
        SocketError.TimedOut => Retryable("timeout"),
        _ => Permanent("socket error"),
    };

    // Several failures at once: one permanent failure makes the whole permanent (a retry would
    // hit it again); otherwise degraded beats retryable, and the longest suggestion wins.
    private static ErrorClassification ClassifyAggregate(AggregateException exception)
    {
        var inner = exception.Flatten().InnerExceptions;
        if (inner.Count == 0)
        {
            return Permanent("unexpected error");
        }

        ErrorClassification? result = null;
        foreach (var failure in inner)
        {
            var current = Classify(failure);
            if (current.Class == ErrorClass.Permanent)
            {
                return current;
            }

            result = result is not { } previous ? current : Combine(previous, current);
        }

        return result!.Value;
    }

    private static ErrorClassification Combine(ErrorClassification first, ErrorClassification second)
    {
        var winner = second.Class == ErrorClass.Degraded && first.Class != ErrorClass.Degraded ? second : first;
        var suggested = (first.SuggestedDelay, second.SuggestedDelay) switch
        {
            ({ } a, { } b) => a >= b ? a : b,
            (var a, var b) => a ?? b,
        };
        return winner with { SuggestedDelay = suggested };
    }

    private static TimeSpan? NonNegative(TimeSpan? delay) =>
        delay is { } value && value < TimeSpan.Zero ? TimeSpan.Zero : delay;

    private static ErrorClassification Retryable(string reason, TimeSpan? suggested = null) =>
        new(ErrorClass.Retryable, reason, suggested);

    private static ErrorClassification Permanent(string reason) => new(ErrorClass.Permanent, reason);
}
