using ConsensusApi.Auth;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConsensusApi.Endpoints;

/// <summary>Specs as a whole.</summary>
internal static class SpecEndpoints
{
    public static void MapSpecEndpoints(this RouteGroupBuilder api)
    {
        api.MapGroup("/specs").WithTags("Specs").RequireAuthorization(Roles.Policies.Read)
            .MapGet("/", ListSpecs)
            .WithSummary("Specs with stored data, most recently active first")
            .WithDescription("Counts are over all stages of the spec; page with limit and cursor.");

        var deletes = api.MapGroup("/specs").WithTags("Specs").RequireAuthorization(Roles.Policies.Write);
        deletes.MapDelete("/{specId}", DeleteSpec).WithSummary("Delete everything stored for a spec, in both schemas");
        deletes.MapDelete("/{specId}/stages/{stage}", DeleteStage).WithSummary("Delete everything stored for one stage of a spec, in both schemas");
    }

    internal static async Task<Ok<Page<SpecSummary>>> ListSpecs(int? limit, string? cursor, SpecRepository specs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await specs.ListAsync(new PageRequest(limit ?? PageRequest.DefaultLimit, cursor), cancellationToken));

    internal static async Task<Ok<DeleteResult>> DeleteSpec(string specId, SpecRepository specs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await specs.DeleteSpecAsync(specId, cancellationToken));

    internal static async Task<Ok<DeleteResult>> DeleteStage(string specId, string stage, SpecRepository specs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await specs.DeleteStageAsync(specId, stage, cancellationToken));
}
