using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace ConsensusApi.Errors;

/// <summary>Makes every problem carry type, title, status and detail, whoever produced it.</summary>
internal static class ProblemDetailsDefaults
{
    public static void Complete(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        problem.Status = status;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(status);
        problem.Type ??= TypeFor(status);
        problem.Detail ??= DetailFor(status, context.HttpContext);
        problem.Extensions.Remove("traceId");
        if (context.HttpContext.Features.Get<IHttpActivityFeature>()?.Activity.TraceId is { } traceId)
        {
            problem.Extensions["traceId"] = traceId.ToString();
        }
    }

    private static string TypeFor(int status) => status switch
    {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        405 => "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        507 => "https://tools.ietf.org/html/rfc4918#section-11.5",
        500 => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        _ => "about:blank",
    };

    private static string DetailFor(int status, HttpContext context) => status switch
    {
        401 => "A valid X-Api-Key header is required.",
        403 => "The API key's role does not allow this call.",
        404 => $"Nothing is found at {context.Request.Path}.",
        405 => $"{context.Request.Method} is not allowed on {context.Request.Path}.",
        413 => "The request body is larger than the limit (Limits:MaxRequestBodyBytes).",
        _ => ReasonPhrases.GetReasonPhrase(status),
    };
}
