using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Domain.Resilience;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Domain.Resilience;

public class ErrorClassifierTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(5, "database busy")] // SQLITE_BUSY
    [InlineData(261, "database busy")] // SQLITE_BUSY_RECOVERY
    [InlineData(517, "database busy")] // SQLITE_BUSY_SNAPSHOT
    [InlineData(773, "database busy")] // SQLITE_BUSY_TIMEOUT
    [InlineData(6, "database locked")] // SQLITE_LOCKED
    [InlineData(262, "database locked")] // SQLITE_LOCKED_SHAREDCACHE
    public void SqliteBusyAndLockedAreRetryable(int errorCode, string reason)
    {
        var classification = ErrorClassifier.Classify(new SqliteException("database is locked", errorCode));

        Assert.Equal(new ErrorClassification(ErrorClass.Retryable, reason), classification);
        Assert.True(classification.IsRetryable);
    }

    [Fact]
    public void SqlitePrimaryCodeWinsOverTheExtendedCode()
    {
        // What the library itself throws: the primary code, with the extended code alongside.
        var snapshot = new SqliteException("database is locked", 5, 517);

        Assert.Equal(ErrorClass.Retryable, ErrorClassifier.Classify(snapshot).Class);
    }

    [Theory]
    [InlineData(13, "storage full")] // SQLITE_FULL
    [InlineData(19, "constraint violation")] // SQLITE_CONSTRAINT
    [InlineData(2067, "constraint violation")] // SQLITE_CONSTRAINT_UNIQUE
    [InlineData(1299, "constraint violation")] // SQLITE_CONSTRAINT_NOTNULL
    [InlineData(11, "database corrupt")] // SQLITE_CORRUPT
    [InlineData(26, "database corrupt")] // SQLITE_NOTADB
    [InlineData(1, "database error")] // SQLITE_ERROR (e.g. bad SQL)
    [InlineData(8, "database error")] // SQLITE_READONLY
    [InlineData(10, "database error")] // SQLITE_IOERR
    [InlineData(14, "database error")] // SQLITE_CANTOPEN
    public void OtherSqliteErrorsArePermanent(int errorCode, string reason)
    {
        var classification = ErrorClassifier.Classify(new SqliteException("failed", errorCode));

        Assert.Equal(new ErrorClassification(ErrorClass.Permanent, reason), classification);
        Assert.False(classification.IsRetryable);
    }

    [Fact]
    public void TimeoutsAreRetryable()
    {
        Assert.Equal(ErrorClass.Retryable, ErrorClassifier.Classify(new TimeoutException()).Class);

        // HttpClient.Timeout surfaces as a TaskCanceledException around a TimeoutException.
        var httpTimeout = new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout.", new TimeoutException());
        Assert.Equal(new ErrorClassification(ErrorClass.Retryable, "timeout"), ErrorClassifier.Classify(httpTimeout));
    }

    [Fact]
    public void PlainCancellationIsPermanent()
    {
        Assert.Equal(new ErrorClassification(ErrorClass.Permanent, "cancelled"), ErrorClassifier.Classify(new OperationCanceledException()));
        Assert.Equal(ErrorClass.Permanent, ErrorClassifier.Classify(new TaskCanceledException()).Class);
    }

    [Fact]
    public void RefusedConnectionsAreRetryable()
    {
        var refused = new SocketException((int)SocketError.ConnectionRefused);
        Exception[] failures =
        [
            refused,
            new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (localhost:5000)", refused),
            new HttpRequestException("Connection refused", refused),
        ];

        Assert.All(failures, failure =>
            Assert.Equal(new ErrorClassification(ErrorClass.Retryable, "connection refused"), ErrorClassifier.Classify(failure)));
    }

    [Fact]
    public void SocketTimeoutIsRetryableAndOtherSocketErrorsArePermanent()
    {
        Assert.Equal(ErrorClass.Retryable, ErrorClassifier.Classify(new SocketException((int)SocketError.TimedOut)).Class);
        Assert.Equal(ErrorClass.Permanent, ErrorClassifier.Classify(new SocketException((int)SocketError.HostNotFound)).Class);
        Assert.Equal(ErrorClass.Permanent, ErrorClassifier.Classify(new HttpRequestException(HttpRequestError.NameResolutionError, "No such host")).Class);
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, ErrorClass.Retryable)]
    [InlineData(HttpStatusCode.TooManyRequests, ErrorClass.Retryable)]
    [InlineData(HttpStatusCode.BadGateway, ErrorClass.Retryable)]
    [InlineData(HttpStatusCode.GatewayTimeout, ErrorClass.Retryable)]
    [InlineData(HttpStatusCode.Unauthorized, ErrorClass.Permanent)]
    [InlineData(HttpStatusCode.Forbidden, ErrorClass.Permanent)]
    [InlineData(HttpStatusCode.BadRequest, ErrorClass.Permanent)]
    [InlineData(HttpStatusCode.NotFound, ErrorClass.Permanent)]
    public void HttpRequestExceptionsAreClassifiedByTheirStatus(HttpStatusCode status, ErrorClass expected)
    {
        var failure = new HttpRequestException($"Response status code does not indicate success: {(int)status}.", null, status);

        Assert.Equal(expected, ErrorClassifier.Classify(failure).Class);
    }

    [Theory]
    [InlineData(503, ErrorClass.Retryable, "service unavailable")]
    [InlineData(429, ErrorClass.Retryable, "rate limited")]
    [InlineData(408, ErrorClass.Retryable, "request timeout")]
    [InlineData(502, ErrorClass.Retryable, "bad gateway")]
    [InlineData(504, ErrorClass.Retryable, "gateway timeout")]
    [InlineData(500, ErrorClass.Retryable, "server error")]
    [InlineData(507, ErrorClass.Permanent, "storage full")]
    [InlineData(401, ErrorClass.Permanent, "authentication/authorization")]
    [InlineData(403, ErrorClass.Permanent, "authentication/authorization")]
    [InlineData(400, ErrorClass.Permanent, "invalid input")]
    [InlineData(422, ErrorClass.Permanent, "invalid input")]
    [InlineData(404, ErrorClass.Permanent, "not found")]
    [InlineData(409, ErrorClass.Permanent, "conflict")]
    [InlineData(413, ErrorClass.Permanent, "content too large")]
    [InlineData(418, ErrorClass.Permanent, "client error")]
    [InlineData(200, ErrorClass.Permanent, "not an error status")]
    [InlineData(302, ErrorClass.Permanent, "not an error status")]
    public void HttpStatusesAreClassified(int status, ErrorClass expected, string reason)
    {
        Assert.Equal(new ErrorClassification(expected, reason), ErrorClassifier.Classify((HttpStatusCode)status));
    }

    [Theory]
    [InlineData(503)]
    [InlineData(429)]
    public void RetryAfterBecomesTheSuggestedDelayFor503And429(int status)
    {
        var classification = ErrorClassifier.Classify((HttpStatusCode)status, TimeSpan.FromSeconds(7));

        Assert.Equal(TimeSpan.FromSeconds(7), classification.SuggestedDelay);
        Assert.True(classification.IsRetryable);
    }

    [Fact]
    public void RateLimitSuggestionDrivesTheRetryDelay()
    {
        var options = new RetryOptions { JitterFactor = 0 };
        var rateLimited = ErrorClassifier.Classify(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(2));

        var delay = RetryDelay.Compute(options, 1, 0.5, rateLimited.SuggestedDelay);

        Assert.Equal(TimeSpan.FromSeconds(2), delay);
    }

    [Fact]
    public void RetryAfterIsReadFromDeltaAndDateForms()
    {
        Assert.Equal(TimeSpan.FromSeconds(120), ErrorClassifier.RetryAfterFrom(new RetryConditionHeaderValue(TimeSpan.FromSeconds(120)), Now));
        Assert.Equal(TimeSpan.FromSeconds(30), ErrorClassifier.RetryAfterFrom(new RetryConditionHeaderValue(Now.AddSeconds(30)), Now));
        Assert.Equal(TimeSpan.FromSeconds(45), ErrorClassifier.RetryAfterFrom(RetryConditionHeaderValue.Parse("45"), Now));
        Assert.Equal(TimeSpan.FromSeconds(90), ErrorClassifier.RetryAfterFrom(RetryConditionHeaderValue.Parse("Sun, 01 Jun 2025 12:01:30 GMT"), Now));
    }

    [Fact]
    public void RetryAfterInThePastIsZeroAndAbsentIsNull()
    {
        Assert.Equal(TimeSpan.Zero, ErrorClassifier.RetryAfterFrom(new RetryConditionHeaderValue(Now.AddMinutes(-1)), Now));
        Assert.Null(ErrorClassifier.RetryAfterFrom(null, Now));
    }

    [Fact]
    public void DegradedConsensusIsRetryableOnce()
    {
        var classification = ErrorClassifier.Classify(new DegradedConsensusException("2 of 3 agents agreed"));

        Assert.Equal(ErrorClass.Degraded, classification.Class);
        Assert.True(classification.IsRetryable);
    }

    [Fact]
    public void StorageUnavailableIsRetryableAndSuggestsItsRetryAfter()
    {
        var classification = ErrorClassifier.Classify(new StorageUnavailableException("pool exhausted", TimeSpan.FromSeconds(4)));

        Assert.Equal(new ErrorClassification(ErrorClass.Retryable, "storage unavailable", TimeSpan.FromSeconds(4)), classification);
    }

    [Fact]
    public void PermanentDomainAndAccessFailuresAreNeverRetryable()
    {
        Exception[] failures =
        [
            new NotFoundException("no such run"),
            DomainValidationException.For("stage", "unknown stage"),
            new ConflictException("idempotency key reused"),
            new ContentTooLargeException("content", 2_000_000, 1_000_000),
            new StorageFullException("disk full"),
            new DatabaseStartupException("not a database"),
            new UnauthorizedAccessException("read-only file"),
            new InvalidOperationException("bug"),
            new ArgumentException("bad"),
        ];

        Assert.All(failures, failure =>
        {
            var classification = ErrorClassifier.Classify(failure);
            Assert.Equal(ErrorClass.Permanent, classification.Class);
            Assert.False(classification.IsRetryable);
        });
    }

    [Fact]
    public void AggregateOfTransientFailuresIsRetryableWithTheLongestSuggestion()
    {
        var aggregate = new AggregateException(
            new SqliteException("database is locked", 5),
            new AggregateException(new StorageUnavailableException("busy", TimeSpan.FromSeconds(3))),
            new StorageUnavailableException("busy", TimeSpan.FromSeconds(1)));

        var classification = ErrorClassifier.Classify(aggregate);

        Assert.Equal(ErrorClass.Retryable, classification.Class);
        Assert.Equal(TimeSpan.FromSeconds(3), classification.SuggestedDelay);
    }

    [Fact]
    public void AggregateWithAnyPermanentFailureIsPermanent()
    {
        var aggregate = new AggregateException(
            new SqliteException("database is locked", 5),
            new SqliteException("UNIQUE constraint failed", 2067));

        Assert.Equal(new ErrorClassification(ErrorClass.Permanent, "constraint violation"), ErrorClassifier.Classify(aggregate));
    }

    [Fact]
    public void AggregateOfOneFailureIsClassifiedAsThatFailure()
    {
        Assert.Equal(ErrorClass.Degraded, ErrorClassifier.Classify(new AggregateException(new DegradedConsensusException("2 of 3"))).Class);
        Assert.Equal(ErrorClass.Permanent, ErrorClassifier.Classify(new AggregateException()).Class);
    }
}
