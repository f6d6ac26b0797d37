using System.Net;

namespace ConsensusApi.Client;

/// <summary>
/// The service answered with an error: its RFC 9457 problem details, typed. Thrown after the
/// client's retries, so a <see cref="ProblemKind.ServiceUnavailable"/> means the service stayed
/// unavailable through every retry.
/// </summary>
public class ConsensusApiException : Exception
{
    private static readonly IReadOnlyDictionary<string, string[]> NoErrors = new Dictionary<string, string[]>();

    /// <summary>Creates an exception with a message only.</summary>
    public ConsensusApiException()
        : this("The service answered with an error.")
    {
    }

    /// <summary>Creates an exception with a message only.</summary>
    public ConsensusApiException(string message)
        : base(message)
    {
        Errors = NoErrors;
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    public ConsensusApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = NoErrors;
    }

    /// <summary>Creates the exception from a problem response.</summary>
    /// <param name="status">The response status.</param>
    /// <param name="type">The problem's <c>type</c> URI.</param>
    /// <param name="title">The problem's <c>title</c>.</param>
    /// <param name="detail">The problem's <c>detail</c>.</param>
    /// <param name="errors">Field name to messages (validation problems), or none.</param>
    /// <param name="retryAfter">The response's <c>Retry-After</c>, when it had one.</param>
    /// <param name="traceId">The service's trace id of the request, when it sent one.</param>
    public ConsensusApiException(
        HttpStatusCode status,
        string? type,
        string? title,
        string? detail,
        IReadOnlyDictionary<string, string[]>? errors,
        TimeSpan? retryAfter = null,
        string? traceId = null)
        : base(Describe(status, title, detail, errors))
    {
        Status = status;
        Kind = KindOf(status);
        Type = type;
        Title = title;
        Detail = detail;
        Errors = errors ?? NoErrors;
        RetryAfter = retryAfter;
        TraceId = traceId;
    }

    /// <summary>The response status.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The kind of failure, from <see cref="Status"/>.</summary>
    public ProblemKind Kind { get; }

    /// <summary>The problem's <c>type</c> URI.</summary>
    public string? Type { get; }

    /// <summary>The problem's <c>title</c>.</summary>
    public string? Title { get; }

    /// <summary>The problem's <c>detail</c>.</summary>
    public string? Detail { get; }

    /// <summary>
    /// For validation problems: each invalid field (batch items as <c>items[3].stage</c>, the
    /// header as <c>Idempotency-Key</c>) with its messages. Empty otherwise.
    /// </summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>How long the service asked to wait (429 and 503), when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The service's trace id of the failed request, for its logs.</summary>
    public string? TraceId { get; }

    /// <summary>The kind of failure a status stands for.</summary>
    /// <param name="status">A response status.</param>
    /// <returns>Its <see cref="ProblemKind"/>.</returns>
    public static ProblemKind KindOf(HttpStatusCode status) => (int)status switch
    {
        400 => ProblemKind.BadRequest,
        401 => ProblemKind.Unauthorized,
        403 => ProblemKind.Forbidden,
        404 => ProblemKind.NotFound,
        409 => ProblemKind.Conflict,
        413 => ProblemKind.ContentTooLarge,
        429 => ProblemKind.TooManyRequests,
        503 => ProblemKind.ServiceUnavailable,
        507 => ProblemKind.InsufficientStorage,
        >= 500 and <= 599 => ProblemKind.ServerError,
        _ => ProblemKind.Other,
    };

    private static string Describe(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]>? errors)
    {
        var text = $"{(int)status} {title ?? status.ToString()}";
        if (!string.IsNullOrEmpty(detail))
        {
            text += ": " + detail;
        }

        if (errors is { Count: > 0 })
        {
            text += " (" + string.Join("; ", errors.Select(error => $"{error.Key}: {string.Join(" ", error.Value)}")) + ")";
        }

        return text;
    }
}
