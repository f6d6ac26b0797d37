using System.Text.Json;
using ConsensusApi.Client;
using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Models;
using ConsensusApi.Tests.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Client;

/// <summary>The typed client against the real service in-process: every endpoint of the contract, and its errors as typed exceptions.</summary>
public sealed class ConsensusApiClientTests
{
    private const string Spec = "SPEC-CLIENT-1";
    private const string Stage = "spec-plan";
    private const long RunTimestamp = 1_764_118_923_456;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ArtifactRequest Artifact(string agent, string stage = Stage, string content = """{"plan":["storage","http"],"score":0.5}""") => new()
    {
        SpecId = Spec,
        Stage = stage,
        AgentName = agent,
        Content = StorageTestData.Json(content),
        ResponseText = "raw " + agent,
        ModelVersion = "model-1",
        PipelineRunId = "pipeline-1",
        RunTimestamp = RunTimestamp,
    };

    [Fact]
    public async Task EveryEndpointOfTheContractWorksThroughTheClient()
    {
        await using var factory = ConsensusApiFactory.WithKeys();
        await using var harness = ClientHarness.For(factory, TestKeys.Admin);
        var client = harness.Client;

        Assert.Equal("healthy", (await client.GetLivenessAsync(Ct)).Status);
        Assert.Equal("healthy", (await client.GetReadinessAsync(Ct)).Status);

        var gemini = await client.StoreArtifactAsync(Artifact("gemini"), cancellationToken: Ct);
        Assert.Equal(RunTimestamp, gemini.RunTimestamp);
        Assert.Equal(JsonValueKind.Object, gemini.Content.ValueKind);
        Assert.Equal("storage", gemini.Content.GetProperty("plan")[0].GetString());
        var batch = await client.StoreArtifactBatchAsync(new ArtifactBatchRequest { Items = [Artifact("claude"), Artifact("gpt", content: "\"plain text\"")] }, cancellationToken: Ct);
        Assert.Equal(["claude", "gpt"], batch.Items.Select(a => a.AgentName));
        Assert.Equal(gemini with { }, await client.GetArtifactAsync(gemini.Id, Ct), ArtifactComparer.Instance);

        var page = await client.ListArtifactsAsync(Spec, Stage, limit: 2, cancellationToken: Ct);
        Assert.Equal(2, page.Items.Count);
        Assert.NotNull(page.NextCursor);
        Assert.Equal(3, await client.EnumerateArtifactsAsync(Spec, Stage, pageSize: 1, cancellationToken: Ct).CountAsync(Ct));
        Assert.Equal("gemini", Assert.Single((await client.ListArtifactsAsync(Spec, Stage, agentName: "gemini", cancellationToken: Ct)).Items).AgentName);

        var inserted = await client.UpsertRunAsync(new RunUpsertRequest { SpecId = Spec, Stage = "spec-tasks", RunTimestamp = RunTimestamp, ConsensusOk = false }, Ct);
        Assert.True(inserted.Inserted);
        var updated = await client.UpsertRunAsync(new RunUpsertRequest { SpecId = Spec, Stage = "spec-tasks", RunTimestamp = RunTimestamp, ConsensusOk = true, Synthesis = StorageTestData.Json("""{"status":"ok"}""") }, Ct);
        Assert.False(updated.Inserted);
        Assert.Equal(inserted.Run.Id, updated.Run.Id);
        Assert.Equal("ok", updated.Run.Synthesis!.Value.GetProperty("status").GetString());

        var run = await client.GetRunAsync(gemini.RunId, Ct);
        Assert.Equal(3, run.Outputs!.Count);
        Assert.Single((await client.ListRunsAsync(Spec, Stage, cancellationToken: Ct)).Items);
        Assert.Single(await client.EnumerateRunsAsync(Spec, Stage, cancellationToken: Ct).ToListAsync(Ct));
        Assert.Equal(run.Id, (await client.GetLatestRunAsync(Spec, Stage, Ct)).Id);

        var synthesis = await client.StoreSynthesisAsync(new SynthesisRequest
        {
            SpecId = Spec, Stage = Stage, OutputMarkdown = "# Plan", OutputPath = "docs/plan.md", Status = "ok", ArtifactsCount = 3, RunTimestamp = RunTimestamp,
        }, cancellationToken: Ct);
        Assert.Equal(run.Id, synthesis.RunId);
        Assert.Equal(synthesis.Id, (await client.GetLatestSynthesisAsync(Spec, Stage, Ct)).Id);

        var spec = Assert.Single(await client.EnumerateSpecsAsync(cancellationToken: Ct).ToListAsync(Ct));
        Assert.Equal(Spec, spec.SpecId);
        Assert.Equal(["spec-plan", "spec-tasks"], spec.Stages);
        Assert.Single((await client.ListSpecsAsync(limit: 10, cancellationToken: Ct)).Items);

        var migrations = await client.GetMigrationsAsync(Ct);
        Assert.Equal(migrations.LatestVersion, migrations.CurrentVersion);
        Assert.Empty(migrations.Pending);
        var storage = await client.GetStorageAsync(Ct);
        Assert.Equal(factory.DatabasePath, storage.Path);
        Assert.Equal("wal", storage.JournalMode);
        Assert.All((await client.GetPragmasAsync(Ct)).Items, pragma => Assert.True(pragma.Ok, pragma.Name));
        Assert.Equal(VacuumMode.Incremental, (await client.VacuumAsync(pages: 5, cancellationToken: Ct)).Mode);
        Assert.Equal(VacuumMode.Full, (await client.VacuumAsync(VacuumMode.Full, cancellationToken: Ct)).Mode);
        var backup = await client.BackupAsync(cancellationToken: Ct);
        Assert.True(File.Exists(backup.Path));
        var telemetry = await client.GetTelemetryAsync(Ct);
        Assert.Equal(4, telemetry.DualWrite.Writes);
        Assert.Equal(0, telemetry.DualWrite.Mismatches);

        Assert.Contains("consensusapi_", await client.GetMetricsTextAsync(Ct), StringComparison.Ordinal);
        using (var document = JsonDocument.Parse(await client.GetOpenApiDocumentAsync(Ct)))
        {
            Assert.True(document.RootElement.TryGetProperty("openapi", out _));
        }

        var deletedStage = await client.DeleteStageAsync(Spec, "spec-tasks", Ct);
        Assert.Equal(1, deletedStage.DeletedRuns);
        var deleted = await client.DeleteSpecAsync(Spec, Ct);
        Assert.Equal(new DeleteResult(1, 3, 3, 1), deleted);
        var gone = await Assert.ThrowsAsync<ConsensusApiException>(() => client.DeleteSpecAsync(Spec, Ct));
        Assert.Equal(ProblemKind.NotFound, gone.Kind);
        Assert.Equal(0, harness.Telemetry.Snapshot().Attempts);
    }

    [Fact]
    public async Task ServiceProblemsArriveAsTypedExceptionsWithTheirFieldErrors()
    {
        await using var factory = ConsensusApiFactory.WithKeys(new Dictionary<string, string?> { ["Limits:MaxContentBytes"] = "64" });
        await using var writer = ClientHarness.For(factory, TestKeys.Writer);
        await using var reader = ClientHarness.For(factory, TestKeys.Reader);
        await using var anonymous = ClientHarness.For(factory, null);

        var invalid = await Assert.ThrowsAsync<ConsensusApiException>(() => writer.Client.StoreArtifactBatchAsync(
            new ArtifactBatchRequest { Items = [Artifact("gemini"), Artifact("claude", stage: "Not A Stage")] }, cancellationToken: Ct));
        Assert.Equal(ProblemKind.BadRequest, invalid.Kind);
        Assert.Equal(400, (int)invalid.Status);
        Assert.NotNull(invalid.Type);
        Assert.NotNull(invalid.Title);
        Assert.Contains("items[1].stage", invalid.Errors.Keys);
        Assert.Empty((await writer.Client.ListArtifactsAsync(Spec, Stage, cancellationToken: Ct)).Items);

        var tooLarge = await Assert.ThrowsAsync<ConsensusApiException>(() => writer.Client.StoreArtifactAsync(
            Artifact("gemini", content: $"\"{new string('x', 100)}\""), cancellationToken: Ct));
        Assert.Equal(ProblemKind.ContentTooLarge, tooLarge.Kind);

        var forbidden = await Assert.ThrowsAsync<ConsensusApiException>(() => reader.Client.StoreArtifactAsync(Artifact("gemini"), cancellationToken: Ct));
        Assert.Equal(ProblemKind.Forbidden, forbidden.Kind);
        var unauthorized = await Assert.ThrowsAsync<ConsensusApiException>(() => anonymous.Client.ListSpecsAsync(cancellationToken: Ct));
        Assert.Equal(ProblemKind.Unauthorized, unauthorized.Kind);
        var missing = await Assert.ThrowsAsync<ConsensusApiException>(() => reader.Client.GetArtifactAsync(999_999, Ct));
        Assert.Equal(ProblemKind.NotFound, missing.Kind);
        Assert.False(string.IsNullOrEmpty(missing.Detail));

        await writer.Client.StoreArtifactAsync(Artifact("gemini"), "shared-key", Ct);
        var conflict = await Assert.ThrowsAsync<ConsensusApiException>(() => writer.Client.StoreArtifactAsync(Artifact("claude"), "shared-key", Ct));
        Assert.Equal(ProblemKind.Conflict, conflict.Kind);

        // Permanent failures are never retried.
        Assert.Equal(0, writer.Telemetry.Snapshot().Attempts + reader.Telemetry.Snapshot().Attempts + anonymous.Telemetry.Snapshot().Attempts);
    }

    /// <summary>Artifacts compare by value, their JSON content by its text.</summary>
    private sealed class ArtifactComparer : IEqualityComparer<Artifact>
    {
        public static readonly ArtifactComparer Instance = new();

        public bool Equals(Artifact? x, Artifact? y) =>
            x is not null && y is not null && x with { Content = default } == y with { Content = default } && x.Content.GetRawText() == y.Content.GetRawText();

        public int GetHashCode(Artifact obj) => obj.Id.GetHashCode();
    }
}
