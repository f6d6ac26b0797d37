using System.Globalization;
using System.Text.Json;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Telemetry;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace ConsensusApi.Tests.Domain.Storage;

public sealed class DualWriteTests
{
    private const string Markdown = "# Consensus\n\nAll three agents agree.";
    private const string OutputPath = "docs/SPEC-KIT-945/plan.md";

    private static readonly DateTimeOffset Start = new(2026, 5, 6, 7, 8, 9, 123, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<TestDatabase> OpenAsync(TimeProvider? time = null, CapturingLogger<DualWriteTelemetry>? log = null) =>
        TestDatabase.OpenAsync(timeProvider: time ?? new FakeTimeProvider(Start), configure: log is null ? null : services => services.AddSingleton<ILogger<DualWriteTelemetry>>(log));

    private static string LegacyText(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static SynthesisRequest Synthesis(string status = "ok", long? runTimestamp = 1_767_000_000_000) => new()
    {
        SpecId = "SPEC-KIT-945",
        Stage = "spec-plan",
        OutputMarkdown = Markdown,
        OutputPath = OutputPath,
        Status = status,
        ArtifactsCount = 3,
        Agreements = "storage layout",
        Conflicts = "retry budget",
        Degraded = false,
        ConsensusOk = true,
        PipelineRunId = "pipeline-7",
        RunTimestamp = runTimestamp,
    };

    private static async Task ExecuteAsync(TestDatabase db, string sql) =>
        await db.Database.Writes.ExecuteAsync((connection, _) => connection.Execute(sql), Ct);

    [Fact]
    public async Task HundredDualWrittenArtifactsValidateWithoutMismatchAndBothSchemasAgreeFieldByField()
    {
        var time = new FakeTimeProvider(Start);
        await using var db = await OpenAsync(time);
        var repository = db.Get<ArtifactRepository>();

        var ids = new List<long>();
        for (var n = 0; n < 100; n++)
        {
            var request = SqliteFiles.Artifact(specId: $"SPEC-{n % 4}", stage: n % 2 == 0 ? "spec-plan" : "spec-tasks", agent: $"agent-{n % 3}", n: n) with
            {
                ResponseText = n % 7 == 0 ? null : $"raw response {n}",
                PipelineRunId = n % 5 == 0 ? null : $"pipeline-{n / 10}",
                RunTimestamp = n % 3 == 0 ? null : 1_767_000_000_000 + (n / 10),
            };
            ids.Add((await repository.StoreAsync(request, key: null, Ct)).Value.Id);
            time.Advance(TimeSpan.FromMilliseconds(1537));
        }

        Assert.Equal(new DualWriteSnapshot(Writes: 100, Validated: 100, Mismatches: 0), db.Get<DualWriteTelemetry>().Snapshot());
        Assert.Equal(0, db.Get<DualWriteTelemetry>().Snapshot().MismatchRate);
        using var lease = await db.Database.Pool.AcquireAsync(Ct);
        var pairs = lease.Connection.Query<Pair>("""
            SELECT l.id AS Id, l.spec_id AS LegacySpecId, l.stage AS LegacyStage, l.agent_name AS LegacyAgent, l.content_json AS LegacyContent,
                   l.response_text AS LegacyResponse, l.run_id AS LegacyRunId, l.created_at AS LegacyCreatedAt,
                   o.spec_id AS SpecId, o.stage AS Stage, o.agent_name AS Agent, o.content AS Content, o.response_text AS Response,
                   o.pipeline_run_id AS PipelineRunId, o.output_timestamp AS OutputTimestamp, r.spec_id AS RunSpecId, r.stage AS RunStage
            FROM consensus_artifacts l JOIN agent_outputs o ON o.id = l.id JOIN consensus_runs r ON r.id = o.run_id
            ORDER BY l.id
            """).ToList();
        Assert.Equal(ids, pairs.Select(pair => pair.Id));
        foreach (var pair in pairs)
        {
            Assert.Equal(pair.LegacySpecId, pair.SpecId);
            Assert.Equal(pair.LegacySpecId, pair.RunSpecId);
            Assert.Equal(pair.LegacyStage, pair.Stage);
            Assert.Equal(pair.LegacyStage, pair.RunStage);
            Assert.Equal(pair.LegacyAgent, pair.Agent);
            Assert.Equal(pair.LegacyContent, pair.Content);
            Assert.Equal(pair.LegacyResponse, pair.Response);
            Assert.Equal(pair.LegacyRunId, pair.PipelineRunId);
            Assert.Equal(pair.LegacyCreatedAt, LegacyText(pair.OutputTimestamp));
            Assert.Null(DualWriteValidator.CheckArtifact(lease.Connection, pair.Id).Difference);
        }

        // The same instant in both: the first write happened at Start.
        Assert.Equal(Start.ToUnixTimeMilliseconds(), pairs[0].OutputTimestamp);
        Assert.Equal("2026-05-06 07:08:09", pairs[0].LegacyCreatedAt);
    }

    [Fact]
    public async Task SynthesisDualWriteWritesTheLegacyRowTheNormalizedRowAndTheRunsSnakeCaseJson()
    {
        await using var db = await OpenAsync();
        var request = Synthesis();

        var stored = (await db.Get<SynthesisRepository>().StoreAsync(request, key: null, Ct)).Value;

        using var lease = await db.Database.Pool.AcquireAsync(Ct);
        var connection = lease.Connection;
        var legacy = connection.QuerySingle<(string SpecId, string Stage, string Markdown, string Path, string Status, long Count, string Agreements, string Conflicts, long Degraded, string RunId, string CreatedAt)>(
            "SELECT spec_id, stage, output_markdown, output_path, status, artifacts_count, agreements, conflicts, degraded, run_id, created_at FROM consensus_synthesis WHERE id = @Id", stored);
        Assert.Equal(
            ("SPEC-KIT-945", "spec-plan", Markdown, OutputPath, "ok", 3L, "storage layout", "retry budget", 0L, "pipeline-7", "2026-05-06 07:08:09"),
            legacy);
        var normalized = connection.QuerySingle<(long RunId, string Markdown, string Path, string Status, long Count, string Agreements, string Conflicts, long Degraded, long ConsensusOk, string PipelineRunId, long CreatedAt)>(
            "SELECT run_id, output_markdown, output_path, status, artifacts_count, agreements, conflicts, degraded, consensus_ok, pipeline_run_id, created_at FROM run_syntheses WHERE id = @Id", stored);
        Assert.Equal(
            (stored.RunId, Markdown, OutputPath, "ok", 3L, "storage layout", "retry budget", 0L, 1L, "pipeline-7", Start.ToUnixTimeMilliseconds()),
            normalized);
        var run = connection.QuerySingle<(long RunTimestamp, long ConsensusOk, long Degraded, string Json)>(
            "SELECT run_timestamp, consensus_ok, degraded, synthesis_json FROM consensus_runs WHERE id = @RunId", stored);
        Assert.Equal((1_767_000_000_000L, 1L, 0L), (run.RunTimestamp, run.ConsensusOk, run.Degraded));
        using var json = JsonDocument.Parse(run.Json);
        Assert.Equal(
            new[] { "agreements", "artifacts_count", "conflicts", "output_markdown", "output_path", "status" },
            json.RootElement.EnumerateObject().Select(property => property.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Markdown, json.RootElement.GetProperty("output_markdown").GetString());
        Assert.Equal(OutputPath, json.RootElement.GetProperty("output_path").GetString());
        Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("artifacts_count").GetInt32());
        Assert.Equal("storage layout", json.RootElement.GetProperty("agreements").GetString());
        Assert.Equal("retry budget", json.RootElement.GetProperty("conflicts").GetString());
        Assert.Null(DualWriteValidator.CheckSynthesis(connection, stored.Id).Difference);
        Assert.Equal(new DualWriteSnapshot(1, 1, 0), db.Get<DualWriteTelemetry>().Snapshot());
    }

    [Fact]
    public async Task NewerSynthesisOfTheSameRunReplacesTheRunsJsonAndKeepsBothRows()
    {
        var time = new FakeTimeProvider(Start);
        await using var db = await OpenAsync(time);
        var repository = db.Get<SynthesisRepository>();

        var first = (await repository.StoreAsync(Synthesis(status: "conflict") with { ConsensusOk = false }, key: null, Ct)).Value;
        time.Advance(TimeSpan.FromMinutes(3));
        var second = (await repository.StoreAsync(Synthesis(status: "ok") with { ArtifactsCount = null, Conflicts = null }, key: null, Ct)).Value;

        using var lease = await db.Database.Pool.AcquireAsync(Ct);
        var json = lease.Connection.ExecuteScalar<string>("SELECT synthesis_json FROM consensus_runs WHERE id = @RunId", second)!;
        Assert.Equal(first.RunId, second.RunId);
        Assert.Equal(2L, SqliteFiles.Count(lease.Connection, "run_syntheses"));
        Assert.Equal(2L, SqliteFiles.Count(lease.Connection, "consensus_synthesis"));
        Assert.True(JsonElement.DeepEquals(
            JsonDocument.Parse("""{"output_markdown":"# Consensus\n\nAll three agents agree.","output_path":"docs/SPEC-KIT-945/plan.md","status":"ok","artifacts_count":null,"agreements":"storage layout","conflicts":null}""").RootElement,
            JsonDocument.Parse(json).RootElement));
        Assert.Null(DualWriteValidator.CheckSynthesis(lease.Connection, second.Id).Difference);
        Assert.Equal(new DualWriteSnapshot(2, 2, 0), db.Get<DualWriteTelemetry>().Snapshot());
    }

    [Fact]
    public async Task ExceptionAfterTheDualWriteInsideAUnitLeavesNoRowInEitherSchema()
    {
        await using var db = await OpenAsync();
        var checks = new List<DualWriteCheck>();

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.Database.Writes.ExecuteAsync<long>((connection, _) =>
        {
            ArtifactRepository.Insert(connection, SqliteFiles.Artifact(), Start.ToUnixTimeMilliseconds(), checks);
            throw new InvalidOperationException("crash after both schemas were written");
        }, Ct));

        Assert.Null(Assert.Single(checks).Difference); // both rows existed and agreed inside the transaction
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.All(new[] { "consensus_artifacts", "agent_outputs", "consensus_runs", "spec_stages", "specs" }, table => Assert.Equal(0L, SqliteFiles.Count(reader, table)));
    }

    [Fact]
    public async Task FailureBetweenTheLegacyAndTheNormalizedInsertLeavesNoLegacyRow()
    {
        await using var db = await OpenAsync();
        await ExecuteAsync(db, "CREATE TRIGGER fail_normalized BEFORE INSERT ON agent_outputs BEGIN SELECT RAISE(ABORT, 'normalized insert failed'); END");

        var error = await Assert.ThrowsAsync<SqliteException>(async () => await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(), key: null, Ct));

        Assert.Contains("normalized insert failed", error.Message, StringComparison.Ordinal);
        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(0L, SqliteFiles.Count(reader, "consensus_artifacts"));
        Assert.Equal(0L, SqliteFiles.Count(reader, "consensus_runs"));
        Assert.Equal(new DualWriteSnapshot(0, 0, 0), db.Get<DualWriteTelemetry>().Snapshot());
    }

    [Fact]
    public async Task FailureInTheMiddleOfASynthesisDualWriteLeavesNoRowInEitherSchema()
    {
        await using var db = await OpenAsync();
        await ExecuteAsync(db, "CREATE TRIGGER fail_normalized BEFORE INSERT ON run_syntheses BEGIN SELECT RAISE(ABORT, 'normalized insert failed'); END");

        await Assert.ThrowsAsync<SqliteException>(async () => await db.Get<SynthesisRepository>().StoreAsync(Synthesis(), key: null, Ct));

        using var reader = SqliteFiles.OpenRaw(db.Path);
        Assert.Equal(0L, SqliteFiles.Count(reader, "consensus_synthesis"));
        Assert.Equal(0L, SqliteFiles.Count(reader, "consensus_runs"));
    }

    [Theory]
    [InlineData("UPDATE agent_outputs SET content = '{\"tampered\":true}'", "content differs")]
    [InlineData("UPDATE agent_outputs SET response_text = 'edited'", "response_text differs")]
    [InlineData("UPDATE agent_outputs SET pipeline_run_id = 'other-run'", "run_id / pipeline_run_id differs")]
    [InlineData("UPDATE agent_outputs SET agent_name = 'impostor'", "agent_name differs")]
    [InlineData("UPDATE agent_outputs SET output_timestamp = output_timestamp + 60000", "created_at differs")]
    [InlineData("UPDATE consensus_artifacts SET stage = 'spec-tasks'", "stage differs")]
    [InlineData("DELETE FROM agent_outputs", "the normalized row is missing")]
    public async Task CorruptedArtifactTwinIsReportedAsADifference(string corruption, string difference)
    {
        await using var db = await OpenAsync();
        var id = (await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(), key: null, Ct)).Value.Id;

        await ExecuteAsync(db, corruption);
        var check = await db.Database.Writes.ExecuteAsync((connection, _) => DualWriteValidator.CheckArtifact(connection, id), Ct);

        Assert.Equal(new DualWriteCheck("artifact", id, difference), check);
    }

    [Fact]
    public async Task MissingLegacyRowIsReportedAsADifference()
    {
        await using var db = await OpenAsync();
        var id = (await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(), key: null, Ct)).Value.Id;

        await ExecuteAsync(db, "DELETE FROM consensus_artifacts");
        var check = await db.Database.Writes.ExecuteAsync((connection, _) => DualWriteValidator.CheckArtifact(connection, id), Ct);

        Assert.Equal("the legacy row is missing", check.Difference);
    }

    [Theory]
    [InlineData("UPDATE run_syntheses SET status = 'failed'", "status differs")]
    [InlineData("UPDATE run_syntheses SET artifacts_count = 2", "artifacts_count differs")]
    [InlineData("UPDATE consensus_synthesis SET degraded = 1", "degraded differs")]
    [InlineData("UPDATE consensus_runs SET synthesis_json = '{\"output_markdown\":\"other\"}'", "run synthesis_json differs")]
    [InlineData("DELETE FROM run_syntheses", "the normalized row is missing")]
    public async Task CorruptedSynthesisTwinIsReportedAsADifference(string corruption, string difference)
    {
        await using var db = await OpenAsync();
        var id = (await db.Get<SynthesisRepository>().StoreAsync(Synthesis(), key: null, Ct)).Value.Id;

        await ExecuteAsync(db, corruption);
        var check = await db.Database.Writes.ExecuteAsync((connection, _) => DualWriteValidator.CheckSynthesis(connection, id), Ct);

        Assert.Equal(new DualWriteCheck("synthesis", id, difference), check);
    }

    [Fact]
    public async Task MismatchIsCountedAndLoggedAsAnError()
    {
        var log = new CapturingLogger<DualWriteTelemetry>();
        using var meters = new TestMeterFactory();
        var telemetry = new DualWriteTelemetry(new ConsensusMetrics(meters), log);
        await using var db = await OpenAsync();
        var id = (await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(), key: null, Ct)).Value.Id;
        await ExecuteAsync(db, "UPDATE agent_outputs SET content = '{\"tampered\":true}'");
        var check = await db.Database.Writes.ExecuteAsync((connection, _) => DualWriteValidator.CheckArtifact(connection, id), Ct);

        telemetry.Record([check, new DualWriteCheck("artifact", id + 1, null)]);

        var snapshot = telemetry.Snapshot();
        Assert.Equal(new DualWriteSnapshot(Writes: 2, Validated: 2, Mismatches: 1), snapshot);
        Assert.Equal(0.5, snapshot.MismatchRate);
        var error = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Equal(1006, error.EventId.Id);
        Assert.Contains($"artifact {id}", error.Message, StringComparison.Ordinal);
        Assert.Contains("content differs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LiveDualWriteThatReadsBackADifferentTwinIsCountedAsAMismatch()
    {
        var log = new CapturingLogger<DualWriteTelemetry>();
        await using var db = await OpenAsync(log: log);
        await ExecuteAsync(db, """
            CREATE TRIGGER corrupt_twin AFTER INSERT ON agent_outputs WHEN NEW.agent_name = 'claude'
            BEGIN UPDATE agent_outputs SET content = '{"corrupted":true}' WHERE id = NEW.id; END
            """);
        var repository = db.Get<ArtifactRepository>();

        await repository.StoreAsync(SqliteFiles.Artifact(agent: "gemini"), key: null, Ct);
        var corrupted = await repository.StoreAsync(SqliteFiles.Artifact(agent: "claude"), key: null, Ct);

        Assert.Equal(new DualWriteSnapshot(Writes: 2, Validated: 2, Mismatches: 1), db.Get<DualWriteTelemetry>().Snapshot());
        var error = Assert.Single(log.Entries, entry => entry.Level == LogLevel.Error);
        Assert.Contains($"artifact {corrupted.Value.Id}: content differs", error.Message, StringComparison.Ordinal);
    }

    private sealed class Pair
    {
        public long Id { get; set; }
        public string LegacySpecId { get; set; } = "";
        public string LegacyStage { get; set; } = "";
        public string LegacyAgent { get; set; } = "";
        public string LegacyContent { get; set; } = "";
        public string? LegacyResponse { get; set; }
        public string? LegacyRunId { get; set; }
        public string LegacyCreatedAt { get; set; } = "";
        public string SpecId { get; set; } = "";
        public string Stage { get; set; } = "";
        public string Agent { get; set; } = "";
        public string Content { get; set; } = "";
        public string? Response { get; set; }
        public string? PipelineRunId { get; set; }
        public long OutputTimestamp { get; set; }
        public string RunSpecId { get; set; } = "";
        public string RunStage { get; set; } = "";
    }
}
