using ConsensusApi.Auth;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConsensusApi.Endpoints;

/// <summary>Consensus runs.</summary>
internal static class RunEndpoints
{
    public static void MapRunEndpoints(this RouteGroupBuilder api)
    {
        api.MapGroup("/runs").WithTags("Runs").RequireAuthorization(Roles.Policies.Write)
            .MapPut("/", UpsertRun)
            .WithSummary("Insert or update a run")
            .WithDescription("Keyed by (specId, stage, runTimestamp). 201 when inserted, 200 when updated; on update an omitted degraded or synthesis keeps its stored value.");

        var reads = api.MapGroup("").WithTags("Runs").RequireAuthorization(Roles.Policies.Read);
        reads.MapGet("/runs/{id}", GetRun).WithSummary("One run with its outputs");
        reads.MapGet("/specs/{specId}/stages/{stage}/runs", ListRuns)
            .WithSummary("A stage's runs, newest first, without outputs")
            .WithDescription("Ordered by runTimestamp then id, descending; page with limit and cursor.");
        reads.MapGet("/specs/{specId}/stages/{stage}/runs/latest", LatestRun).WithSummary("The stage's newest run with its outputs");
    }

    internal static async Task<Results<Created<Run>, Ok<Run>>> UpsertRun(RunUpsertRequest request, RunRepository runs, CancellationToken cancellationToken)
    {
        var outcome = await runs.UpsertAsync(request, key: null, cancellationToken);
        return outcome.Created
            ? TypedResults.Created($"/api/v1/runs/{outcome.Value.Id}", outcome.Value)
            : TypedResults.Ok(outcome.Value);
    }

    internal static async Task<Ok<Run>> GetRun(long id, RunRepository runs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await runs.GetAsync(id, cancellationToken));

    internal static async Task<Ok<Page<Run>>> ListRuns(
        string specId, string stage, int? limit, string? cursor, RunRepository runs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await runs.ListAsync(specId, stage, new PageRequest(limit ?? PageRequest.DefaultLimit, cursor), cancellationToken));

    internal static async Task<Ok<Run>> LatestRun(string specId, string stage, RunRepository runs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await runs.LatestAsync(specId, stage, cancellationToken));
}
