using HealthCheckStatus = ConsensusApi.Domain.Models.HealthCheckStatus;
using HealthStatus = ConsensusApi.Domain.Models.HealthStatus;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConsensusApi.Endpoints;

/// <summary>Liveness and readiness, from ASP.NET Core's health check service, as described endpoints.</summary>
internal static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health").AllowAnonymous();
        health.MapGet("/live", Live).WithSummary("200 while the process runs");
        health.MapGet("/ready", Ready)
            .WithSummary("Ready to serve")
            .WithDescription("200 when the database is open, its pragmas verified and its schema at the latest version; 503 otherwise.");
    }

    internal static Ok<HealthStatus> Live() => TypedResults.Ok(new HealthStatus("healthy", []));

    internal static async Task<Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>>> Ready(HealthCheckService health, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), cancellationToken);
        var status = new HealthStatus(
            report.Status.ToString().ToLowerInvariant(),
            report.Entries.Select(entry => new HealthCheckStatus(entry.Key, entry.Value.Status.ToString().ToLowerInvariant(), entry.Value.Description)).ToList());
        return report.Status == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
            ? TypedResults.Ok(status)
            : TypedResults.Json(status, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
