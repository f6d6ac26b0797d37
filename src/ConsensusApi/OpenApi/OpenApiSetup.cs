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
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "ConsensusApi",
                    Version = "v1",
                    Description = "Consensus artifacts of spec-driven workflows: agent outputs, consensus runs and syntheses, stored in SQLite. " +
                        "Errors are RFC 9457 problem details. Authenticate with an API key in the X-Api-Key header (roles reader, writer, admin).",
                };
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
                var secured = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any();
                if (secured)
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [],
                    });
                }

                return Task.CompletedTask;
            });
            options.AddOperationTransformer<ErrorResponsesTransformer>();
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
