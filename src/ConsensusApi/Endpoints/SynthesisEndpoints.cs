using ConsensusApi.Auth;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConsensusApi.Endpoints;

/// <summary>Consensus syntheses.</summary>
internal static class SynthesisEndpoints
{
    public static void MapSynthesisEndpoints(this RouteGroupBuilder api)
    {
        api.MapGroup("/synthesis").WithTags("Synthesis").RequireAuthorization(Roles.Policies.Write)
            .MapPost("/", StoreSynthesis)
            .WithSummary("Store a stage's synthesis")
            .WithDescription("Writes the legacy synthesis row and the run's synthesis_json in one transaction and sets the run's consensusOk (default true) and degraded. The run at runTimestamp (now when omitted) is created when absent.");

        api.MapGroup("").WithTags("Synthesis").RequireAuthorization(Roles.Policies.Read)
            .MapGet("/specs/{specId}/stages/{stage}/synthesis/latest", LatestSynthesis)
            .WithSummary("The stage's newest synthesis")
            .WithDescription("Newest by createdAt, then id; syntheses stored before the migration are included.");
    }

    internal static async Task<Created<Synthesis>> StoreSynthesis(
        SynthesisRequest request, HttpContext context, IdempotencyKeys keys, SynthesisRepository syntheses, CancellationToken cancellationToken)
    {
        var outcome = await syntheses.StoreAsync(request, keys.From(context, nameof(StoreSynthesis), request), cancellationToken);
        IdempotencyKeys.MarkReplay(context, outcome);
        return TypedResults.Created($"/api/v1/specs/{outcome.Value.SpecId}/stages/{outcome.Value.Stage}/synthesis/latest", outcome.Value);
    }

    internal static async Task<Ok<Synthesis>> LatestSynthesis(string specId, string stage, SynthesisRepository syntheses, CancellationToken cancellationToken) =>
        TypedResults.Ok(await syntheses.LatestAsync(specId, stage, cancellationToken));
}
