using ConsensusApi.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ConsensusApi.OpenApi;

/// <summary>
/// The OpenAPI document (Microsoft.AspNetCore.OpenApi) served at <c>/swagger/v1/swagger.json</c>,
/// with the API-key security scheme so Swagger UI's Authorize button works, and Swagger UI
/// (Swashbuckle.AspNetCore.SwaggerUI) at <c>/swagger</c>.
/// </summary>
internal static class OpenApiSetup
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/swagger/v1/swagger.json";

    public static IServiceCollection AddConsensusOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.CreateSchemaReferenceId = JsonValueSchemas.ReferenceId;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "ConsensusApi",
                    Version = "v1",
                    License = new OpenApiLicense { Name = "Proprietary" },
                    Description = "Consensus artifacts of spec-driven workflows: agent outputs, consensus runs and syntheses, stored in SQLite. " +
                        "Errors are RFC 9457 problem details. Authenticate with an API key in the X-Api-Key header (roles reader, writer, admin).",
                };
                // The address the document was requested on, without the trailing slash linters reject.
                foreach (var server in document.Servers ?? [])
                {
                    server.Url = server.Url?.TrimEnd('/');
                }

                document.Tags = new HashSet<OpenApiTag>
                {
                    new() { Name = "Artifacts", Description = "Agent outputs for a spec and stage." },
                    new() { Name = "Runs", Description = "Consensus runs: one per spec, stage and run timestamp." },
                    new() { Name = "Synthesis", Description = "The synthesis that records whether the agents agreed." },
                    new() { Name = "Specs", Description = "Specs as a whole: summaries and deletes." },
                    new() { Name = "Admin", Description = "Schema, storage, vacuum, backup and telemetry (admin role)." },
                    new() { Name = "Health", Description = "Liveness and readiness (no key needed)." },
                };
                ProblemSchemas.AddTo(document);
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = ApiKeyAuthenticationHandler.HeaderName,
                    Description = "An API key configured in Auth:ApiKeys.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                // Stable operationIds: the handler's method name.
                operation.OperationId ??= context.Description.ActionDescriptor.EndpointMetadata.OfType<System.Reflection.MethodInfo>().FirstOrDefault()?.Name;
                var secured = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any();
                operation.Security ??= [];
                operation.Security.Add(secured
                    ? new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [],
                    }
                    : new OpenApiSecurityRequirement()); // an empty requirement: no key needed

                return Task.CompletedTask;
            });
            options.AddOperationTransformer<ErrorResponsesTransformer>();
            options.AddSchemaTransformer<SchemaExamples>();
            options.AddSchemaTransformer<JsonValueSchemas>();
        });

    public static WebApplication MapConsensusOpenApi(this WebApplication app)
    {
        app.MapOpenApi("/swagger/{documentName}/swagger.json").AllowAnonymous();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint(DocumentPath, "ConsensusApi v1");
            options.RoutePrefix = "swagger";
            options.DocumentTitle = "ConsensusApi";
            options.EnableTryItOutByDefault();
        });
        return app;
    }
}
