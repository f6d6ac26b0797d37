using System.Diagnostics;
using System.Net.Http.Headers;

namespace ConsensusApi.LoadTests.Engine;

/// <summary>A response as a scenario sees it: the status (0 when none came) and the body.</summary>
/// <param name="Status">HTTP status code, or 0 when the request failed without one.</param>
/// <param name="Body">The body's bytes.</param>
/// <param name="Success">True when the status was one the step expected.</param>
/// <param name="Location">The Location header, when there was one.</param>
public readonly record struct ApiResponse(int Status, byte[] Body, bool Success, Uri? Location);

/// <summary>
/// Sends a scenario's requests and records each one: its latency when the status is the expected
/// one, otherwise an error under its status code (or <c>timeout</c>, <c>connection</c>). No retries.
/// </summary>
public sealed class ApiClient
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _http;
    private readonly ScenarioStats? _stats;

    /// <summary>A client that records into <paramref name="stats"/>; null records nothing (set-up and read-back).</summary>
    public ApiClient(HttpClient http, ScenarioStats? stats)
    {
        _http = http;
        _stats = stats;
    }

    /// <summary>The same connections, recording into <paramref name="stats"/>.</summary>
    public ApiClient RecordingInto(ScenarioStats stats) => new(_http, stats);

    /// <summary>GET, expecting 200.</summary>
    public Task<ApiResponse> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, 200, 200, cancellationToken);

    /// <summary>POST a JSON body, expecting <paramref name="expected"/>.</summary>
    public Task<ApiResponse> PostAsync(string path, byte[] body, int expected, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body, expected, expected, cancellationToken);

    /// <summary>PUT a JSON body, expecting either status.</summary>
    public Task<ApiResponse> PutAsync(string path, byte[] body, int expected, int alsoExpected, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, path, body, expected, alsoExpected, cancellationToken);

    private async Task<ApiResponse> SendAsync(HttpMethod method, string path, byte[]? body, int expected, int alsoExpected, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = Json;
        }

        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var end = Stopwatch.GetTimestamp();
            var status = (int)response.StatusCode;
            var success = status == expected || status == alsoExpected;
            if (success)
            {
                _stats?.RecordSuccess(start, end);
            }
            else
            {
                _stats?.RecordError(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            return new ApiResponse(status, bytes, success, response.Headers.Location);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _stats?.RecordError("timeout");
            return new ApiResponse(0, [], false, null);
        }
        catch (HttpRequestException)
        {
            _stats?.RecordError("connection");
            return new ApiResponse(0, [], false, null);
        }
    }
}
