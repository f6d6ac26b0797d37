using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Storage.Migrations;
using Polly.Timeout;

namespace ConsensusApi.Client;

/// <summary>
/// Typed client of the ConsensusApi HTTP API (v1): every endpoint, with the service's own models.
/// Register it with <c>services.AddConsensusApiClient(...)</c>; the HttpClient it receives retries
/// transient failures (timeouts, refused connections, 503 and 429 honouring <c>Retry-After</c>),
/// never a 4xx. Every write carries an <c>Idempotency-Key</c>, one per call and the same on each of
/// its retries, so a retried write is stored once.
/// </summary>
/// <remarks>
/// Errors the service reports are thrown as <see cref="ConsensusApiException"/> with the problem
/// details; a connection that still fails after the retries surfaces as
/// <see cref="HttpRequestException"/>, an attempt that still times out as <see cref="TimeoutException"/>.
/// </remarks>
public sealed class ConsensusApiClient
{
    /// <summary>The request header carrying the key of a write.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The response header the service sets when it replayed an earlier outcome.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    private const string Api = "api/v1";

    private readonly HttpClient _http;
    private readonly ConsensusApiClientTelemetry _telemetry;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the client on an HttpClient configured by <c>AddConsensusApiClient</c>.</summary>
    /// <param name="httpClient">The configured HttpClient (base address, key, retry handler).</param>
    /// <param name="telemetry">Receives the retry counters.</param>
    /// <param name="timeProvider">The clock of retry budgets and Retry-After dates.</param>
    public ConsensusApiClient(HttpClient httpClient, ConsensusApiClientTelemetry telemetry, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _http = httpClient;
        _telemetry = telemetry;
        _timeProvider = timeProvider;
    }

    // ---- Artifacts -------------------------------------------------------------------------

    /// <summary><c>POST /api/v1/artifacts</c>: stores one agent's output.</summary>
    /// <param name="request">The output.</param>
    /// <param name="idempotencyKey">The write's key; a new one per call when omitted. Pass your own to dedupe across calls.</param>
    /// <param name="cancellationToken">Cancels the call, its retries included.</param>
    /// <returns>The stored artifact.</returns>
    public Task<Artifact> StoreArtifactAsync(ArtifactRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        WriteAsync<Artifact>("store_artifact", HttpMethod.Post, $"{Api}/artifacts", request, idempotencyKey, cancellationToken);

    /// <summary><c>POST /api/v1/artifacts/batch</c>: stores 1 to 1000 outputs, all or nothing.</summary>
    /// <param name="request">The outputs.</param>
    /// <param name="idempotencyKey">The write's key; a new one per call when omitted.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored artifacts, in request order.</returns>
    public Task<ArtifactBatch> StoreArtifactBatchAsync(ArtifactBatchRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        WriteAsync<ArtifactBatch>("store_artifact_batch", HttpMethod.Post, $"{Api}/artifacts/batch", request, idempotencyKey, cancellationToken);

    /// <summary><c>GET /api/v1/artifacts/{id}</c>.</summary>
    /// <param name="id">The artifact's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The artifact.</returns>
    /// <exception cref="ConsensusApiException"><see cref="ProblemKind.NotFound"/> when it does not exist.</exception>
    public Task<Artifact> GetArtifactAsync(long id, CancellationToken cancellationToken = default) =>
        ReadAsync<Artifact>("get_artifact", string.Create(CultureInfo.InvariantCulture, $"{Api}/artifacts/{id}"), cancellationToken);

    /// <summary><c>GET /api/v1/specs/{specId}/stages/{stage}/artifacts</c>: one page, newest first.</summary>
    /// <param name="specId">The spec.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="agentName">Only this agent's outputs, when given.</param>
    /// <param name="limit">Page size, 1-500 (service default 50).</param>
    /// <param name="cursor">The previous page's <c>NextCursor</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    public Task<Page<Artifact>> ListArtifactsAsync(
        string specId, string stage, string? agentName = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        ReadAsync<Page<Artifact>>("list_artifacts", Query($"{Scope(specId, stage)}/artifacts", ("agentName", agentName), ("limit", Text(limit)), ("cursor", cursor)), cancellationToken);

    /// <summary>Every artifact of a stage, newest first, following the cursors page by page.</summary>
    /// <param name="specId">The spec.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="agentName">Only this agent's outputs, when given.</param>
    /// <param name="pageSize">Items per request, 1-500.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The artifacts.</returns>
    public IAsyncEnumerable<Artifact> EnumerateArtifactsAsync(
        string specId, string stage, string? agentName = null, int? pageSize = null, CancellationToken cancellationToken = default) =>
        EnumerateAsync((cursor, token) => ListArtifactsAsync(specId, stage, agentName, pageSize, cursor, token), cancellationToken);

    // ---- Runs ------------------------------------------------------------------------------

    /// <summary><c>PUT /api/v1/runs</c>: inserts or updates a run keyed by spec, stage and run timestamp.</summary>
    /// <param name="request">The run.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// The run, and whether this call inserted it. An upsert is idempotent by nature; a retry after
    /// a lost response reports <c>Inserted = false</c> for a run the first attempt inserted.
    /// </returns>
    public async Task<RunUpsertResult> UpsertRunAsync(RunUpsertRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = Request(HttpMethod.Put, $"{Api}/runs", "upsert_run", idempotencyKey: NewKey());
        message.Content = Json(request);
        using var response = await SendAsync(message, cancellationToken);
        var run = await ReadBodyAsync<Run>(response, cancellationToken);
        return new RunUpsertResult(run, response.StatusCode == HttpStatusCode.Created);
    }

    /// <summary><c>GET /api/v1/runs/{id}</c>: a run with its outputs.</summary>
    /// <param name="id">The run's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run.</returns>
    public Task<Run> GetRunAsync(long id, CancellationToken cancellationToken = default) =>
        ReadAsync<Run>("get_run", string.Create(CultureInfo.InvariantCulture, $"{Api}/runs/{id}"), cancellationToken);

    /// <summary><c>GET /api/v1/specs/{specId}/stages/{stage}/runs</c>: one page of runs (without outputs), newest first.</summary>
    /// <param name="specId">The spec.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="limit">Page size, 1-500.</param>
    /// <param name="cursor">The previous page's <c>NextCursor</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    public Task<Page<Run>> ListRunsAsync(string specId, string stage, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        ReadAsync<Page<Run>>("list_runs", Query($"{Scope(specId, stage)}/runs", ("limit", Text(limit)), ("cursor", cursor)), cancellationToken);

    /// <summary>Every run of a stage, newest first, following the cursors.</summary>
    /// <param name="specId">The spec.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="pageSize">Items per request, 1-500.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The runs.</returns>
    public IAsyncEnumerable<Run> EnumerateRunsAsync(string specId, string stage, int? pageSize = null, CancellationToken cancellationToken = default) =>
        EnumerateAsync((cursor, token) => ListRunsAsync(specId, stage, pageSize, cursor, token), cancellationToken);

    /// <summary><c>GET /api/v1/specs/{specId}/stages/{stage}/runs/latest</c>: the newest run with its outputs.</summary>
    /// <param name="specId">The spec.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run.</returns>
    public Task<Run> GetLatestRunAsync(string specId, string stage, CancellationToken cancellationToken = default) =>
        ReadAsync<Run>("latest_run", $"{Scope(specId, stage)}/runs/latest", cancellationToken);

    // ---- Synthesis -------------------------------------------------------------------------

    /// <summary><c>POST /api/v1/synthesis</c>: stores a stage's synthesis and sets its run's consensus flags.</summary>
    /// <param name="request">The synthesis.</param>
    /// <param name="idempotencyKey">The write's key; a new one per call when omitted.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored synthesis.</returns>
    public Task<Synthesis> StoreSynthesisAsync(SynthesisRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        WriteAsync<Synthesis>("store_synthesis", HttpMethod.Post, $"{Api}/synthesis", request, idempotencyKey, cancellationToken);

    /// <summary><c>GET /api/v1/specs/{specId}/stages/{stage}/synthesis/latest</c>.</summary>
    /// <param name="specId">The spec.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The newest synthesis.</returns>
    public Task<Synthesis> GetLatestSynthesisAsync(string specId, string stage, CancellationToken cancellationToken = default) =>
        ReadAsync<Synthesis>("latest_synthesis", $"{Scope(specId, stage)}/synthesis/latest", cancellationToken);

    // ---- Specs -----------------------------------------------------------------------------

    /// <summary><c>GET /api/v1/specs</c>: one page of specs, most recently active first.</summary>
    /// <param name="limit">Page size, 1-500.</param>
    /// <param name="cursor">The previous page's <c>NextCursor</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    public Task<Page<SpecSummary>> ListSpecsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        ReadAsync<Page<SpecSummary>>("list_specs", Query($"{Api}/specs", ("limit", Text(limit)), ("cursor", cursor)), cancellationToken);

    /// <summary>Every spec, most recently active first, following the cursors.</summary>
    /// <param name="pageSize">Items per request, 1-500.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The specs.</returns>
    public IAsyncEnumerable<SpecSummary> EnumerateSpecsAsync(int? pageSize = null, CancellationToken cancellationToken = default) =>
        EnumerateAsync((cursor, token) => ListSpecsAsync(pageSize, cursor, token), cancellationToken);

    /// <summary><c>DELETE /api/v1/specs/{specId}</c>: removes everything stored for a spec, in both schemas.</summary>
    /// <param name="specId">The spec.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Rows removed per table.</returns>
    /// <remarks>A retry after a lost response finds nothing left and reports <see cref="ProblemKind.NotFound"/>.</remarks>
    public Task<DeleteResult> DeleteSpecAsync(string specId, CancellationToken cancellationToken = default) =>
        WriteAsync<DeleteResult>("delete_spec", HttpMethod.Delete, $"{Api}/specs/{Segment(specId)}", body: null, idempotencyKey: null, cancellationToken);

    /// <summary><c>DELETE /api/v1/specs/{specId}/stages/{stage}</c>: removes everything stored for one stage.</summary>
    /// <param name="specId">The spec.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Rows removed per table.</returns>
    public Task<DeleteResult> DeleteStageAsync(string specId, string stage, CancellationToken cancellationToken = default) =>
        WriteAsync<DeleteResult>("delete_stage", HttpMethod.Delete, Scope(specId, stage), body: null, idempotencyKey: null, cancellationToken);

    // ---- Admin -----------------------------------------------------------------------------

    /// <summary><c>GET /api/v1/admin/migrations</c> (admin).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Schema version, applied and pending migrations.</returns>
    public Task<MigrationStatus> GetMigrationsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<MigrationStatus>("admin_migrations", $"{Api}/admin/migrations", cancellationToken);

    /// <summary><c>GET /api/v1/admin/storage</c> (admin).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>File size, free pages, WAL size, vacuum state.</returns>
    public Task<StorageReport> GetStorageAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<StorageReport>("admin_storage", $"{Api}/admin/storage", cancellationToken);

    /// <summary><c>GET /api/v1/admin/pragmas</c> (admin).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The eight pragmas, expected against actual.</returns>
    public Task<PragmaReport> GetPragmasAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<PragmaReport>("admin_pragmas", $"{Api}/admin/pragmas", cancellationToken);

    /// <summary><c>POST /api/v1/admin/vacuum</c> (admin): one vacuum cycle now.</summary>
    /// <param name="mode">Incremental (default) or a full VACUUM.</param>
    /// <param name="pages">Pages of an incremental cycle (service default <c>Vacuum:Pages</c>).</param>
    /// <param name="idempotencyKey">The call's key; a new one per call when omitted.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Sizes before and after.</returns>
    public Task<VacuumResult> VacuumAsync(VacuumMode mode = VacuumMode.Incremental, int? pages = null, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        WriteAsync<VacuumResult>(
            "admin_vacuum",
            HttpMethod.Post,
            Query($"{Api}/admin/vacuum", ("mode", mode == VacuumMode.Full ? "full" : null), ("pages", Text(pages))),
            body: null,
            idempotencyKey ?? NewKey(),
            cancellationToken);

    /// <summary><c>POST /api/v1/admin/backup</c> (admin): an online, consistent backup into the service's backup folder.</summary>
    /// <param name="idempotencyKey">The call's key; a new one per call when omitted.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Where the backup was written.</returns>
    public Task<BackupResult> BackupAsync(string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        WriteAsync<BackupResult>("admin_backup", HttpMethod.Post, $"{Api}/admin/backup", body: null, idempotencyKey ?? NewKey(), cancellationToken);

    /// <summary><c>GET /api/v1/admin/telemetry</c> (admin).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Dual-write, retry and pool counters.</returns>
    public Task<TelemetryReport> GetTelemetryAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<TelemetryReport>("admin_telemetry", $"{Api}/admin/telemetry", cancellationToken);

    // ---- Operations ------------------------------------------------------------------------

    /// <summary><c>GET /health/live</c>, not retried.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The liveness report.</returns>
    public Task<HealthStatus> GetLivenessAsync(CancellationToken cancellationToken = default) =>
        HealthAsync("health_live", "health/live", cancellationToken);

    /// <summary><c>GET /health/ready</c>, not retried: the report whether ready (200) or not (503).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The readiness report; its <see cref="HealthStatus.Status"/> is <c>healthy</c> when ready.</returns>
    public Task<HealthStatus> GetReadinessAsync(CancellationToken cancellationToken = default) =>
        HealthAsync("health_ready", "health/ready", cancellationToken);

    /// <summary><c>GET /metrics</c>: the Prometheus text exposition.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The metrics text.</returns>
    public Task<string> GetMetricsTextAsync(CancellationToken cancellationToken = default) =>
        ReadTextAsync("metrics", "metrics", cancellationToken);

    /// <summary><c>GET /swagger/v1/swagger.json</c>: the OpenAPI document.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The document's JSON text.</returns>
    public Task<string> GetOpenApiDocumentAsync(CancellationToken cancellationToken = default) =>
        ReadTextAsync("openapi_document", "swagger/v1/swagger.json", cancellationToken);

    // ---- Plumbing --------------------------------------------------------------------------

    private async Task<T> ReadAsync<T>(string operation, string path, CancellationToken cancellationToken)
    {
        using var message = Request(HttpMethod.Get, path, operation);
        using var response = await SendAsync(message, cancellationToken);
        return await ReadBodyAsync<T>(response, cancellationToken);
    }

    private async Task<string> ReadTextAsync(string operation, string path, CancellationToken cancellationToken)
    {
        using var message = Request(HttpMethod.Get, path, operation);
        using var response = await SendAsync(message, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    private async Task<HealthStatus> HealthAsync(string operation, string path, CancellationToken cancellationToken)
    {
        using var message = Request(HttpMethod.Get, path, operation, retry: false);
        using var response = await SendAsync(message, cancellationToken);
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            return await Deserialize<HealthStatus>(response, cancellationToken);
        }

        return await ReadBodyAsync<HealthStatus>(response, cancellationToken);
    }

    private async Task<T> WriteAsync<T>(
        string operation, HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var message = Request(method, path, operation, idempotencyKey: idempotencyKey ?? NewKey());
        if (body is not null)
        {
            message.Content = Json(body);
        }

        using var response = await SendAsync(message, cancellationToken);
        return await ReadBodyAsync<T>(response, cancellationToken);
    }

    private HttpRequestMessage Request(HttpMethod method, string path, string operation, bool retry = true, string? idempotencyKey = null)
    {
        var message = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/problem+json"));
        if (idempotencyKey is not null)
        {
            // One key per logical call, on the message itself: every retry of this call resends it.
            message.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey);
        }

        message.Options.Set(CallState.Key, new CallState(operation, _timeProvider.GetTimestamp(), retry));
        return message;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        var state = message.Options.TryGetValue(CallState.Key, out var found) ? found : new CallState("http", _timeProvider.GetTimestamp());
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (Exception exception)
        {
            _telemetry.RecordOperation(state.Operation, state.Retries, OutcomeOf(state, exception, cancellationToken));
            if (exception is TimeoutRejectedException timeout)
            {
                throw new TimeoutException($"{state.Operation}: no response within the attempt timeout after {state.Retries + 1} attempt(s).", timeout);
            }

            throw;
        }

        var outcome = response.IsSuccessStatusCode ? RetryOutcome.Succeeded
            : state.Retry && ErrorClassifier.Classify(response.StatusCode).Class == ErrorClass.Retryable ? RetryOutcome.Exhausted
            : RetryOutcome.Failed;
        _telemetry.RecordOperation(state.Operation, state.Retries, outcome);
        return response;
    }

    private static RetryOutcome OutcomeOf(CallState state, Exception exception, CancellationToken cancellationToken)
    {
        if (!state.Retry || (exception is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return RetryOutcome.Failed;
        }

        return exception is TimeoutRejectedException || ErrorClassifier.Classify(exception).Class == ErrorClass.Retryable
            ? RetryOutcome.Exhausted
            : RetryOutcome.Failed;
    }

    private async Task<T> ReadBodyAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken);
        return await Deserialize<T>(response, cancellationToken);
    }

    private static async Task<T> Deserialize<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonSerializer.DeserializeAsync<T>(stream, ClientJson.Options, cancellationToken)
            ?? throw new ConsensusApiException($"The service answered {(int)response.StatusCode} with an empty body.");
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var retryAfter = ErrorClassifier.RetryAfterFrom(response.Headers.RetryAfter, _timeProvider.GetUtcNow());
        ProblemBody? problem = null;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.Content.Headers.ContentType?.MediaType is { } mediaType && mediaType.EndsWith("json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                problem = JsonSerializer.Deserialize<ProblemBody>(text, ClientJson.Options);
            }
            catch (JsonException)
            {
                // Not a problem document after all; the status still tells what happened.
            }
        }

        throw new ConsensusApiException(
            response.StatusCode,
            problem?.Type,
            problem?.Title ?? response.ReasonPhrase,
            problem?.Detail ?? (string.IsNullOrWhiteSpace(text) || problem is not null ? null : Truncate(text)),
            problem?.Errors,
            retryAfter,
            problem?.TraceId);
    }

    private static async IAsyncEnumerable<T> EnumerateAsync<T>(
        Func<string?, CancellationToken, Task<Page<T>>> page, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? cursor = null;
        do
        {
            var current = await page(cursor, cancellationToken);
            foreach (var item in current.Items)
            {
                yield return item;
            }

            cursor = current.NextCursor;
        }
        while (cursor is not null);
    }

    private static ByteArrayContent Json(object body)
    {
        // Serialized once into a buffer, so every retry resends the same bytes.
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), ClientJson.Options));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private static string NewKey() => Guid.NewGuid().ToString("N");

    private static string Scope(string specId, string stage) => $"{Api}/specs/{Segment(specId)}/stages/{Segment(stage)}";

    private static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return Uri.EscapeDataString(value);
    }

    private static string? Text(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var query = string.Join('&', parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}"));
        return query.Length == 0 ? path : $"{path}?{query}";
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500] + "...";

    private sealed record ProblemBody(string? Type, string? Title, int? Status, string? Detail, Dictionary<string, string[]>? Errors, string? TraceId);
}
