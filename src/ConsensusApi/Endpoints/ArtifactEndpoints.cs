using ConsensusApi.Auth;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConsensusApi.Endpoints;

/// <summary>Agent outputs ("artifacts").</summary>
internal static class ArtifactEndpoints
{
    public static void MapArtifactEndpoints(this RouteGroupBuilder api)
    {
        var writes = api.MapGroup("/artifacts").WithTags("Artifacts").RequireAuthorization(Roles.Policies.Write);
        writes.MapPost("/", StoreArtifact)
            .WithSummary("Store one agent's output")
            .WithDescription("Writes the legacy and the normalized tables in one transaction; creates the run (specId, stage, runTimestamp) when absent. Send an Idempotency-Key to make retries safe.");
        writes.MapPost("/batch", StoreArtifactBatch)
            .WithSummary("Store many outputs, all or nothing")
            .WithDescription("1 to Limits:MaxBatchItems items in one transaction; any invalid item rejects the whole batch and every bad item is listed.");

        var reads = api.MapGroup("").WithTags("Artifacts").RequireAuthorization(Roles.Policies.Read);
        reads.MapGet("/artifacts/{id}", GetArtifact).WithSummary("One stored output");
        reads.MapGet("/specs/{specId}/stages/{stage}/artifacts", ListArtifacts)
            .WithSummary("A stage's outputs, newest first")
            .WithDescription("Ordered by createdAt then id, descending. Filter by agentName; page with limit (1-500, default 50) and cursor (the previous page's nextCursor).");
    }

    internal static async Task<Created<Artifact>> StoreArtifact(
        ArtifactRequest request, HttpContext context, IdempotencyKeys keys, ArtifactRepository artifacts, CancellationToken cancellationToken)
    {
        var outcome = await artifacts.StoreAsync(request, keys.From(context, nameof(StoreArtifact), request), cancellationToken);
        IdempotencyKeys.MarkReplay(context, outcome);
        return TypedResults.Created($"/api/v1/artifacts/{outcome.Value.Id}", outcome.Value);
    }

    internal static async Task<Created<ArtifactBatch>> StoreArtifactBatch(
        ArtifactBatchRequest request, HttpContext context, IdempotencyKeys keys, ArtifactRepository artifacts, CancellationToken cancellationToken)
    {
        var outcome = await artifacts.StoreBatchAsync(request, keys.From(context, nameof(StoreArtifactBatch), request), cancellationToken);
        IdempotencyKeys.MarkReplay(context, outcome);
        return TypedResults.Created((string?)null, outcome.Value);
    }

    internal static async Task<Ok<Artifact>> GetArtifact(long id, ArtifactRepository artifacts, CancellationToken cancellationToken) =>
        TypedResults.Ok(await artifacts.GetAsync(id, cancellationToken));

    internal static async Task<Ok<Page<Artifact>>> ListArtifacts(
        string specId, string stage, string? agentName, int? limit, string? cursor, ArtifactRepository artifacts, CancellationToken cancellationToken) =>
        TypedResults.Ok(await artifacts.ListAsync(specId, stage, agentName, new PageRequest(limit ?? PageRequest.DefaultLimit, cursor), cancellationToken));
}
