using System.Globalization;
using System.Text.Json;
using ConsensusApi.Domain.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ConsensusApi.Errors;

/// <summary>
/// Maps every failure to RFC 9457 problem details with the contract's status codes, in one
/// switch: the Domain's typed exceptions, the framework's bad-request exceptions (bad JSON, wrong
/// types, body too large, wrong content type), and anything else as a bare 500 without details.
/// </summary>
internal sealed partial class DomainExceptionHandler(IProblemDetailsService problemDetails, ILogger<DomainExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
            return true;
        }

        var problem = exception switch
        {
            DomainValidationException validation => new HttpValidationProblemDetails(validation.Errors.ToDictionary(e => e.Key, e => e.Value))
            {
                Status = StatusCodes.Status400BadRequest,
                Detail = "One or more fields are invalid; see errors.",
            },
            ContentTooLargeException tooLarge => Problem(StatusCodes.Status413PayloadTooLarge, tooLarge.Message),
            NotFoundException notFound => Problem(StatusCodes.Status404NotFound, notFound.Message),
            ConflictException conflict => Problem(StatusCodes.Status409Conflict, conflict.Message),
            StorageUnavailableException unavailable => Unavailable(httpContext, unavailable.RetryAfter, unavailable.Message),
            StorageFullException => Problem(StatusCodes.Status507InsufficientStorage, "The database or its disk is full; nothing was written."),
            DegradedConsensusException degraded => Problem(StatusCodes.Status409Conflict, degraded.Message),
            BadHttpRequestException { InnerException: JsonException { Path: { Length: > 1 } path } json } => WrongType(path, json),
            BadHttpRequestException badRequest => Problem(badRequest.StatusCode, Describe(badRequest)),
            JsonException json => Problem(StatusCodes.Status400BadRequest, "The body is not valid JSON: " + json.Message),
            // The JSON binder cannot decode a body whose Content-Type names an unknown charset.
            InvalidOperationException { InnerException: ArgumentException } charset when charset.Message.Contains("charset", StringComparison.Ordinal)
                => Problem(StatusCodes.Status415UnsupportedMediaType, "The request body's charset is not supported; send JSON in UTF-8 (Content-Type: application/json)."),
            _ => null,
        };

        if (problem is null)
        {
            LogUnhandled(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
            problem = Problem(StatusCodes.Status500InternalServerError, "An unexpected error occurred. It has been logged.");
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        if (exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            // The body is never read, so Kestrel closes the connection after this answer; say so, or a
            // client puts the connection back in its pool and its next request fails on it.
            httpContext.Response.Headers.Connection = "close";
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails Problem(int status, string detail) => new() { Status = status, Detail = detail };

    private static ProblemDetails Unavailable(HttpContext context, TimeSpan retryAfter, string detail)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Problem(StatusCodes.Status503ServiceUnavailable, detail);
    }

    /// <summary>A JSON value of the wrong type (or malformed JSON) at a known path: a field-level validation problem.</summary>
    private static HttpValidationProblemDetails WrongType(string path, JsonException json)
    {
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        var expected = ExpectedType().Match(json.Message) is { Success: true } match
            ? match.Groups["type"].Value switch
            {
                var type when type.Contains("Int64", StringComparison.Ordinal) || type.Contains("Int32", StringComparison.Ordinal) => "a whole number",
                var type when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
                var type when type.Contains("String", StringComparison.Ordinal) => "a string",
                var type when type.Contains("JsonElement", StringComparison.Ordinal) => "a JSON value",
                var type when type.Contains("List", StringComparison.Ordinal) || type.Contains("[]", StringComparison.Ordinal) => "an array",
                _ => "a value of another type",
            }
            : null;
        var message = expected is not null ? $"The value must be {expected}."
            : json.Message.Contains("not valid UTF-8", StringComparison.Ordinal) ? "The value is not valid UTF-8."
            : "The JSON is malformed here.";
        field = field.Length == 0 ? "body" : field;
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Detail = $"The body is not valid JSON for this operation: {field}: {message}",
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"converted to (?<type>\S+)")]
    private static partial System.Text.RegularExpressions.Regex ExpectedType();

    /// <summary>The framework's message plus, for JSON, the parser's (which names the path and position).</summary>
    private static string Describe(BadHttpRequestException exception) => exception switch
    {
        { Message: var message } when message.Contains("no body was provided", StringComparison.Ordinal)
            || (message.StartsWith("Required parameter", StringComparison.Ordinal) && message.Contains("from body", StringComparison.Ordinal))
            => "A JSON object is required as the request body.",
        { StatusCode: StatusCodes.Status413PayloadTooLarge } => "The request body is larger than the limit (Limits:MaxRequestBodyBytes).",
        { StatusCode: StatusCodes.Status415UnsupportedMediaType } => "The request body must be JSON (Content-Type: application/json).",
        { InnerException: JsonException json } => "The body is not valid JSON for this operation: " + json.Message,
        _ => exception.Message,
    };

    [LoggerMessage(2001, LogLevel.Error, "Unhandled error on {Method} {Path}.")]
    private static partial void LogUnhandled(ILogger logger, string method, PathString path, Exception exception);
}
