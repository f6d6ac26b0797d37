using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Errors;

/// <summary>
/// Writes problem details as <c>application/problem+json</c> whatever the request's
/// <c>Accept</c> says. The framework's writer declines when <c>Accept</c> names no JSON type
/// (a browser's <c>text/html</c>, an <c>application/xml</c> client), and an error then went out
/// with its status and an empty body. The API speaks JSON only, and every error carries its
/// problem; registered after the framework's writer, this one answers when that one declines.
/// </summary>
internal sealed class ProblemJsonWriter(IOptions<ProblemDetailsOptions> problems, IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        problems.Value.CustomizeProblemDetails?.Invoke(context);
        var problem = context.ProblemDetails;
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
            problem, problem.GetType(), json.Value.SerializerOptions, contentType: "application/problem+json"));
    }
}
