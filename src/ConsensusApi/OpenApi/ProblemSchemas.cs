using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace ConsensusApi.OpenApi;

/// <summary>The two problem-details schemas every error response refers to, defined once.</summary>
internal static class ProblemSchemas
{
    public const string Problem = "ProblemDetails";
    public const string ValidationProblem = "ValidationProblemDetails";

    public static void AddTo(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[Problem] = Build(validation: false);
        document.Components.Schemas[ValidationProblem] = Build(validation: true);
    }

    private static OpenApiSchema Build(bool validation)
    {
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = validation
                ? "RFC 9457 problem details for invalid input; errors maps each field (batch items as items[3].stage) to its messages."
                : "RFC 9457 problem details.",
            Required = new HashSet<string> { "type", "title", "status", "detail" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A URI identifying the kind of problem." },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Short summary of the kind of problem." },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "The HTTP status code." },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong with this request." },
                ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Correlates the response with the service's logs." },
            },
            Examples =
            [
                validation
                ? new JsonObject
                {
                    ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                    ["title"] = "One or more validation errors occurred.",
                    ["status"] = 400,
                    ["detail"] = "One or more fields are invalid; see errors.",
                    ["errors"] = new JsonObject { ["items[3].stage"] = new JsonArray("stage must be 1-64 characters matching ^[a-z][a-z0-9._-]*$.") },
                }
                : new JsonObject
                {
                    ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.5",
                    ["title"] = "Not Found",
                    ["status"] = 404,
                    ["detail"] = "Artifact 17 does not exist.",
                },
            ],
        };
        if (validation)
        {
            schema.Required.Add("errors");
            schema.Properties["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            };
        }

        return schema;
    }
}
