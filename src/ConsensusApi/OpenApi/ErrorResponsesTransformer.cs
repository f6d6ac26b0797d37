using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ConsensusApi.OpenApi;

/// <summary>
/// Adds the problem responses each operation can return, from its method, route and
/// authorization: 400 for input, 401/403 for secured calls, 404 for single resources, 409/413/507
/// for writes, 503 (with Retry-After) whenever storage is touched.
/// </summary>
internal sealed class ErrorResponsesTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var description = context.Description;
        var route = description.RelativePath ?? "";
        if (!route.StartsWith("api/", StringComparison.Ordinal))
        {
            return Task.CompletedTask;
        }

        var method = description.HttpMethod ?? "GET";
        var admin = route.StartsWith("api/v1/admin", StringComparison.Ordinal);
        var dataWrite = !admin && method is "POST" or "PUT";
        var problem = new OpenApiSchemaReference(ProblemSchemas.Problem, context.Document);
        var validation = new OpenApiSchemaReference(ProblemSchemas.ValidationProblem, context.Document);
        operation.Responses ??= [];

        Add(operation, "400", "Invalid input: bad JSON, wrong types or failed validation (errors lists every field).", validation);
        if (description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
        {
            Add(operation, "401", "Missing or unknown API key.", problem);
            Add(operation, "403", "The API key's role does not allow this call.", problem);
        }

        if (route.Contains("{id}", StringComparison.Ordinal) || route.EndsWith("/latest", StringComparison.Ordinal) || method == "DELETE")
        {
            Add(operation, "404", "No such resource.", problem);
        }

        if (method == "POST")
        {
            Add(operation, "409", "The Idempotency-Key was used with a different request.", problem);
        }

        if (dataWrite)
        {
            Add(operation, "413", "The body or a content value is over the limit.", problem);
            Add(operation, "415", "The body is not JSON.", problem);
        }

        if (dataWrite || method == "DELETE" || (admin && method == "POST"))
        {
            Add(operation, "507", "The database or its disk is full; nothing was written.", problem);
        }

        var unavailable = Add(operation, "503", "Storage stayed busy after every retry, or the request outlasted Limits:RequestTimeoutSeconds; try again after Retry-After seconds.", problem);
        unavailable.Headers ??= new Dictionary<string, IOpenApiHeader>();
        unavailable.Headers["Retry-After"] = new OpenApiHeader
        {
            Description = "Seconds to wait before retrying.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
        };
        Add(operation, "500", "Unexpected error; details are logged, never returned.", problem);

        if (method == "POST")
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "Idempotency-Key",
                In = ParameterLocation.Header,
                Required = false,
                Description = "1-128 printable ASCII characters. A repeat with the same body within 24 hours writes nothing and returns the original response; with another body it is a 409.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 128 },
            });
        }

        return Task.CompletedTask;
    }

    private static OpenApiResponse Add(OpenApiOperation operation, string status, string description, IOpenApiSchema schema)
    {
        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = schema },
            },
        };
        operation.Responses!.TryAdd(status, response);
        return response;
    }
}
