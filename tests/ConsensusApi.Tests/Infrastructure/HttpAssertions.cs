using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ConsensusApi.Tests.Infrastructure;

/// <summary>Sending JSON and checking responses against the contract: status, content type, problem members.</summary>
public static partial class HttpAssertions
{
    /// <summary>A JSON request body.</summary>
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A JSON request body.</summary>
    public static StringContent Json(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Json(node.ToJsonString());
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, JsonNode body, string? idempotencyKey = null) =>
        client.SendJsonAsync(HttpMethod.Post, url, body.ToJsonString(), idempotencyKey);

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, string body, string? idempotencyKey = null) =>
        client.SendJsonAsync(HttpMethod.Post, url, body, idempotencyKey);

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, JsonNode body) =>
        client.SendJsonAsync(HttpMethod.Put, url, body.ToJsonString(), idempotencyKey: null);

    public static Task<HttpResponseMessage> SendJsonAsync(this HttpClient client, HttpMethod method, string url, string body, string? idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(client);
        var request = new HttpRequestMessage(method, url) { Content = Json(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Reads the body as text and checks it carries no stack trace.</summary>
    public static async Task<string> ReadBodyAsync(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.True((int)response.StatusCode < 500 || response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InsufficientStorage,
            $"Unexpected {(int)response.StatusCode}: {body}");
        return body;
    }

    /// <summary>Asserts the status and a JSON body (application/json), and returns the body.</summary>
    public static async Task<JsonElement> AssertJsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.ReadBodyAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return Parse(body);
    }

    /// <summary>
    /// Asserts an RFC 9457 problem: the status, <c>application/problem+json</c>, and <c>type</c>,
    /// <c>title</c>, <c>status</c> and <c>detail</c> all present; returns the problem.
    /// </summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.ReadBodyAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = Parse(body);
        Assert.Equal(JsonValueKind.Object, problem.ValueKind);
        foreach (var member in new[] { "type", "title", "detail" })
        {
            Assert.True(problem.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0,
                $"Problem member '{member}' is missing or empty: {body}");
        }

        Assert.True(problem.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Number, $"Problem status missing: {body}");
        Assert.Equal((int)expected, status.GetInt32());
        return problem;
    }

    /// <summary>Asserts a 400 validation problem whose <c>errors</c> has exactly <paramref name="fields"/>; returns the errors.</summary>
    public static async Task<JsonElement> AssertValidationProblemAsync(this HttpResponseMessage response, params string[] fields)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object, $"No errors object: {problem}");
        Assert.Equal(fields.Order(StringComparer.Ordinal), errors.EnumerateObject().Select(error => error.Name).Order(StringComparer.Ordinal));
        foreach (var error in errors.EnumerateObject())
        {
            Assert.Equal(JsonValueKind.Array, error.Value.ValueKind);
            Assert.NotEmpty(error.Value.EnumerateArray());
            Assert.All(error.Value.EnumerateArray(), message => Assert.False(string.IsNullOrWhiteSpace(message.GetString())));
        }

        return errors;
    }

    /// <summary>Asserts an ISO-8601 UTC time with milliseconds and a 'Z', and returns it.</summary>
    public static DateTimeOffset AssertIsoUtc(JsonElement value)
    {
        Assert.Equal(JsonValueKind.String, value.ValueKind);
        var text = value.GetString()!;
        Assert.Matches(IsoUtc(), text);
        return DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Asserts two JSON values are the same value (property order and number spelling aside).</summary>
    public static void AssertSameJson(JsonElement expected, JsonElement actual) =>
        Assert.True(JsonElement.DeepEquals(expected, actual), $"Expected {expected.GetRawText()}, got {actual.GetRawText()}");

    /// <summary>Asserts two JSON values are the same value.</summary>
    public static void AssertSameJson(string expected, JsonElement actual) => AssertSameJson(Parse(expected), actual);

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>The <c>items</c> of a list response, checking <c>nextCursor</c> is present.</summary>
    public static (JsonElement[] Items, string? NextCursor) Page(JsonElement list)
    {
        Assert.True(list.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array, $"No items array: {list}");
        Assert.True(list.TryGetProperty("nextCursor", out var cursor), $"nextCursor must always be present: {list}");
        Assert.True(cursor.ValueKind is JsonValueKind.String or JsonValueKind.Null, $"nextCursor must be a string or null: {list}");
        return ([.. items.EnumerateArray()], cursor.ValueKind == JsonValueKind.Null ? null : cursor.GetString());
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex IsoUtc();
}
