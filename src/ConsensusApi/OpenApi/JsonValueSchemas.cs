using System.Text.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ConsensusApi.OpenApi;

/// <summary>
/// Describes the free-form JSON properties (an artifact's <c>content</c>, a run's <c>synthesis</c>)
/// as what they are, so client generators map them to their "any JSON" type: <c>content</c> is any
/// value (object, array, string, number, boolean), <c>synthesis</c> a JSON object or null. Left to
/// the framework, both would point to an empty <c>JsonElement</c> component, which generators
/// read as an object model with no properties.
/// </summary>
internal sealed class JsonValueSchemas : IOpenApiSchemaTransformer
{
    /// <summary>Keeps <see cref="JsonElement"/> out of the components; every use is described in place.</summary>
    public static string? ReferenceId(System.Text.Json.Serialization.Metadata.JsonTypeInfo type) =>
        type.Type == typeof(JsonElement) || type.Type == typeof(JsonElement?) ? null : OpenApiOptions.CreateDefaultSchemaReferenceId(type);

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Properties is null || context.JsonPropertyInfo is not null)
        {
            return Task.CompletedTask;
        }

        foreach (var property in context.JsonTypeInfo.Properties)
        {
            if ((property.PropertyType != typeof(JsonElement) && property.PropertyType != typeof(JsonElement?))
                || !schema.Properties.TryGetValue(property.Name, out var current))
            {
                continue;
            }

            var description = DescriptionOf(current);
            schema.Properties[property.Name] = property.Name == "synthesis"
                ? new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.Null, Description = description }
                : new OpenApiSchema { Description = description };
        }

        return Task.CompletedTask;
    }

    private static string? DescriptionOf(IOpenApiSchema schema) =>
        schema.Description ?? schema.OneOf?.Select(DescriptionOf).FirstOrDefault(text => text is not null)
        ?? schema.AnyOf?.Select(DescriptionOf).FirstOrDefault(text => text is not null);
}
