using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConsensusApi.Client;

/// <summary>The contract's JSON: camelCase, enums as camelCase strings, absent rather than null.</summary>
internal static class ClientJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
