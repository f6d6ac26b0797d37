using System.Globalization;
using System.Text.Json;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Storage.Migrations;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Tests.Domain.Storage;

/// <summary>
/// A populated database as the terminal UI left it is migrated in place: every legacy field
/// becomes readable from the normalized schema, the legacy tables stay as they were, and the
/// backfill can run again without changing anything.
/// </summary>
public sealed class LegacyBackfillTests : IDisposable
{
    private readonly TempFolder _original = new();
    private readonly TempFolder _copy = new();
    private readonly string _originalPath;
    private readonly string _copyPath;

    public LegacyBackfillTests()
    {
        _originalPath = _original.File("consensus_artifacts.db");
        LegacyDatabase.Create(_originalPath, Seed);
        _copyPath = _copy.File("consensus_artifacts.db");
        File.Copy(_originalPath, _copyPath);
    }

    public void Dispose()
    {
        _original.Dispose();
        _copy.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Three specs, several stages and agents, rows with and without run_id, valid and invalid JSON, several syntheses per stage.</summary>
    private static void Seed(SqliteConnection connection)
    {
        connection.Execute("""
            CREATE TABLE agent_executions (id INTEGER PRIMARY KEY, agent TEXT NOT NULL, started_at TEXT NOT NULL);
            INSERT INTO agent_executions (agent, started_at) VALUES ('gemini', '2026-01-02 03:00:00'), ('claude', '2026-01-02 03:00:01');

            INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, response_text, run_id, created_at) VALUES
                ('SPEC-A', 'spec-plan', 'gemini', '{"plan":["a"],"score":0.9}', 'gemini raw answer', 'run-1', '2026-01-02 03:04:05'),
                ('SPEC-A', 'spec-plan', 'claude', '{"plan":["b"]}', NULL, 'run-1', '2026-01-02 03:04:06'),
                ('SPEC-A', 'spec-plan', 'codex', '{"plan":["c"]}', 'codex raw answer', 'run-1', '2026-01-02 03:04:07'),
                ('SPEC-A', 'spec-plan', 'gemini', '{"v":2}', 'second run', NULL, '2026-01-03 10:00:00'),
                ('SPEC-A', 'spec-plan', 'claude', 'not json at all', NULL, NULL, '2026-01-03 10:00:00'),
                ('SPEC-A', 'spec-tasks', 'gemini', '[1,2,3]', 'tasks raw', NULL, '2026-01-04 08:00:00'),
                ('SPEC-B', 'spec-implement', 'gemini', '{"impl":true}', 'impl raw', 'run-2', '2026-01-05 12:00:00'),
                ('SPEC-B', 'spec-implement', 'claude', '{"impl":false}', NULL, 'run-2', '2026-01-05 12:00:01');
            INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES
                ('SPEC-B', 'spec-validate', 'codex', '"just a string"');

            INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, output_path, status, artifacts_count, agreements, conflicts, degraded, run_id, created_at) VALUES
                ('SPEC-A', 'spec-plan', '# Plan v1', 'docs/SPEC-A/plan.md', 'ok', 3, 'all agree on a', 'none', 0, 'run-1', '2026-01-02 03:05:00'),
                ('SPEC-A', 'spec-plan', '# Plan v2', NULL, 'degraded', 2, 'partial', 'claude disagrees', 1, NULL, '2026-01-03 10:01:00'),
                ('SPEC-B', 'spec-implement', '# Impl draft', 'docs/SPEC-B/impl.md', 'conflict', 2, NULL, 'gemini vs claude', 0, 'run-2', '2026-01-05 12:10:00'),
                ('SPEC-B', 'spec-implement', '# Impl final', 'docs/SPEC-B/impl-final.md', 'ok', 2, 'resolved', NULL, 0, 'run-2', '2026-01-05 12:20:00');
            INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, status, created_at) VALUES
                ('SPEC-C', 'spec-audit', '# Audit', 'ok', '2026-01-06 09:00:00');
            """);
    }

    private static DateTimeOffset Utc(string legacy) =>
        DateTimeOffset.ParseExact(legacy, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static long Ms(string legacy) => Utc(legacy).ToUnixTimeMilliseconds();

    private static List<LegacyArtifact> LegacyArtifacts(SqliteConnection connection) => connection.Query<LegacyArtifact>("""
        SELECT id AS Id, spec_id AS SpecId, stage AS Stage, agent_name AS AgentName, content_json AS ContentJson,
               response_text AS ResponseText, run_id AS RunId, created_at AS CreatedAt
        FROM consensus_artifacts ORDER BY id
        """).ToList();

    private static List<LegacySynthesis> LegacySyntheses(SqliteConnection connection) => connection.Query<LegacySynthesis>("""
        SELECT id AS Id, spec_id AS SpecId, stage AS Stage, output_markdown AS OutputMarkdown, output_path AS OutputPath, status AS Status,
               artifacts_count AS ArtifactsCount, agreements AS Agreements, conflicts AS Conflicts, coalesce(degraded, 0) AS Degraded,
               run_id AS RunId, created_at AS CreatedAt
        FROM consensus_synthesis ORDER BY id
        """).ToList();

    /// <summary>The legacy tables (and the UI's own table) as they are in the file, every column as text.</summary>
    private static List<string> LegacyContent(SqliteConnection connection) =>
        [.. SqliteFiles.Dump(connection, "consensus_artifacts"), .. SqliteFiles.Dump(connection, "consensus_synthesis"), .. SqliteFiles.Dump(connection, "agent_executions")];

    /// <summary>Every table of the file, every row, every column.</summary>
    private static Dictionary<string, List<string>> Everything(SqliteConnection connection) =>
        SqliteFiles.AllTables.Append("agent_executions").ToDictionary(
            table => table,
            table => SqliteFiles.Dump(connection, table, table switch
            {
                "spec_stages" => "spec_id, stage",
                "specs" => "spec_id",
                "idempotency_keys" => "key",
                _ => "rowid",
            }),
            StringComparer.Ordinal);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public async Task EveryLegacyArtifactFieldIsReadableThroughTheRepositoryUnderTheSameId()
    {
        List<LegacyArtifact> legacy;
        using (var original = SqliteFiles.OpenRaw(_originalPath))
        {
            legacy = LegacyArtifacts(original);
        }

        await using var db = await TestDatabase.OpenAsync(path: _copyPath);
        var artifacts = db.Get<ArtifactRepository>();

        Assert.Equal(9, legacy.Count);
        foreach (var row in legacy)
        {
            var artifact = await artifacts.GetAsync(row.Id, Ct);

            Assert.Equal(row.Id, artifact.Id);
            Assert.Equal(row.SpecId, artifact.SpecId);
            Assert.Equal(row.Stage, artifact.Stage);
            Assert.Equal(row.AgentName, artifact.AgentName);
            Assert.Equal(row.ResponseText, artifact.ResponseText);
            Assert.Equal(row.RunId, artifact.PipelineRunId);
            Assert.Equal(Utc(row.CreatedAt), artifact.CreatedAt);
            Assert.Null(artifact.ModelVersion);
            if (row.ContentJson == "not json at all")
            {
                // Text that is not JSON is kept as a JSON string, not lost.
                Assert.Equal(JsonValueKind.String, artifact.Content.ValueKind);
                Assert.Equal(row.ContentJson, artifact.Content.GetString());
            }
            else
            {
                Assert.True(JsonElement.DeepEquals(Json(row.ContentJson), artifact.Content), $"content of {row.Id}");
            }
        }
    }

    [Fact]
    public async Task LegacyArtifactsAreGroupedIntoRunsByRunIdOrByCreationTime()
    {
        await using var db = await TestDatabase.OpenAsync(path: _copyPath);
        var artifacts = db.Get<ArtifactRepository>();
        var runs = db.Get<RunRepository>();

        var run1 = await runs.GetAsync((await artifacts.GetAsync(1, Ct)).RunId, Ct);
        var byTime = await runs.LatestAsync("SPEC-A", "spec-plan", Ct);
        var run2 = await runs.LatestAsync("SPEC-B", "spec-implement", Ct);
        var page = await artifacts.ListAsync("SPEC-A", "spec-plan", agentName: null, new PageRequest(Limit: 10), Ct);

        Assert.Equal(new long[] { 1, 2, 3 }, run1.Outputs!.Select(output => output.Id));
        Assert.Equal(Ms("2026-01-02 03:04:05"), run1.RunTimestamp);
        Assert.True(run1.ConsensusOk);
        Assert.False(run1.Degraded);
        Assert.Equal(new long[] { 4, 5 }, byTime.Outputs!.Select(output => output.Id));
        Assert.Equal(Ms("2026-01-03 10:00:00"), byTime.RunTimestamp);
        Assert.Equal(new long[] { 7, 8 }, run2.Outputs!.Select(output => output.Id));
        Assert.Equal(new long[] { 5, 4, 3, 2, 1 }, page.Items.Select(item => item.Id));
        Assert.Null(page.NextCursor);
        Assert.Equal(6, SqliteFiles.Count(_copyPath, "consensus_runs"));
    }

    [Fact]
    public async Task EveryLegacySynthesisFieldIsReadableFromTheNewSchema()
    {
        List<LegacySynthesis> legacy;
        using (var original = SqliteFiles.OpenRaw(_originalPath))
        {
            legacy = LegacySyntheses(original);
        }

        await using var db = await TestDatabase.OpenAsync(path: _copyPath);
        var syntheses = db.Get<SynthesisRepository>();
        using var lease = await db.Database.Pool.AcquireAsync(Ct);

        Assert.Equal(5, legacy.Count);
        foreach (var row in legacy)
        {
            var stored = lease.Connection.QuerySingle<LegacySynthesis>("""
                SELECT id AS Id, spec_id AS SpecId, stage AS Stage, output_markdown AS OutputMarkdown, output_path AS OutputPath, status AS Status,
                       artifacts_count AS ArtifactsCount, agreements AS Agreements, conflicts AS Conflicts, degraded AS Degraded,
                       pipeline_run_id AS RunId, strftime('%Y-%m-%d %H:%M:%S', created_at / 1000, 'unixepoch') AS CreatedAt
                FROM run_syntheses WHERE id = @Id
                """, row);
            Assert.Equivalent(row, stored, strict: true);
        }

        // The newest of each stage through the repository.
        var plan = await syntheses.LatestAsync("SPEC-A", "spec-plan", Ct);
        Assert.Equal(2, plan.Id);
        Assert.Equal("# Plan v2", plan.OutputMarkdown);
        Assert.Null(plan.OutputPath);
        Assert.Equal("degraded", plan.Status);
        Assert.Equal(2, plan.ArtifactsCount);
        Assert.Equal("partial", plan.Agreements);
        Assert.Equal("claude disagrees", plan.Conflicts);
        Assert.True(plan.Degraded);
        Assert.False(plan.ConsensusOk);
        Assert.Null(plan.PipelineRunId);
        Assert.Equal(Utc("2026-01-03 10:01:00"), plan.CreatedAt);

        var implement = await syntheses.LatestAsync("SPEC-B", "spec-implement", Ct);
        Assert.Equal(4, implement.Id);
        Assert.Equal("docs/SPEC-B/impl-final.md", implement.OutputPath);
        Assert.Equal("ok", implement.Status);
        Assert.Equal("resolved", implement.Agreements);
        Assert.Null(implement.Conflicts);
        Assert.Equal("run-2", implement.PipelineRunId);
        Assert.True(implement.ConsensusOk);
        Assert.Equal((await db.Get<ArtifactRepository>().GetAsync(7, Ct)).RunId, implement.RunId);

        var audit = await syntheses.LatestAsync("SPEC-C", "spec-audit", Ct);
        Assert.Equal(5, audit.Id);
        Assert.Null(audit.ArtifactsCount);
        Assert.False(audit.Degraded);
    }

    [Fact]
    public async Task EachRunCarriesItsNewestLegacySynthesisAsSnakeCaseJson()
    {
        await using var db = await TestDatabase.OpenAsync(path: _copyPath);
        var runs = db.Get<RunRepository>();

        var plan = await runs.LatestAsync("SPEC-A", "spec-plan", Ct);
        var implement = await runs.LatestAsync("SPEC-B", "spec-implement", Ct);
        var audit = await runs.LatestAsync("SPEC-C", "spec-audit", Ct);

        Assert.True(JsonElement.DeepEquals(
            Json("""{"output_markdown":"# Plan v2","output_path":null,"status":"degraded","artifacts_count":2,"agreements":"partial","conflicts":"claude disagrees"}"""),
            plan.Synthesis!.Value));
        Assert.True(plan.Degraded);
        Assert.False(plan.ConsensusOk);
        Assert.True(JsonElement.DeepEquals(
            Json("""{"output_markdown":"# Impl final","output_path":"docs/SPEC-B/impl-final.md","status":"ok","artifacts_count":2,"agreements":"resolved","conflicts":null}"""),
            implement.Synthesis!.Value));
        Assert.True(implement.ConsensusOk);
        Assert.Empty(audit.Outputs!);
        Assert.Equal(Ms("2026-01-06 09:00:00"), audit.RunTimestamp);
        Assert.Equal("# Audit", audit.Synthesis!.Value.GetProperty("output_markdown").GetString());
    }

    [Fact]
    public async Task LegacyTablesKeepEveryRowUnchanged()
    {
        List<string> before;
        using (var original = SqliteFiles.OpenRaw(_originalPath))
        {
            before = LegacyContent(original);
        }

        await using var db = await TestDatabase.OpenAsync(path: _copyPath);
        using var lease = await db.Database.Pool.AcquireAsync(Ct);

        Assert.Equal(before, LegacyContent(lease.Connection));
        Assert.True(MigrationRunner.GetStatus(lease.Connection).LegacyTablesPresent);
    }

    [Fact]
    public async Task DualWriteValidatorFindsNoDifferenceForAnyBackfilledRow()
    {
        await using var db = await TestDatabase.OpenAsync(path: _copyPath);
        using var lease = await db.Database.Pool.AcquireAsync(Ct);
        var connection = lease.Connection;

        var artifactChecks = connection.Query<long>("SELECT id FROM consensus_artifacts").Select(id => DualWriteValidator.CheckArtifact(connection, id)).ToList();
        var synthesisChecks = connection.Query<long>("SELECT id FROM consensus_synthesis").ToDictionary(id => id, id => DualWriteValidator.CheckSynthesis(connection, id));

        Assert.Equal(9, artifactChecks.Count);
        Assert.All(artifactChecks, check => Assert.Null(check.Difference));
        foreach (var id in new long[] { 1, 2, 4, 5 })
        {
            Assert.Null(synthesisChecks[id].Difference);
        }

        // Synthesis 3 is not its run's newest: only the run's synthesis_json (now synthesis 4) tells them apart.
        Assert.Equal("run synthesis_json differs", synthesisChecks[3].Difference);
    }

    [Fact]
    public async Task MigratedFileHasNoForeignKeyViolationsAndPassesTheIntegrityCheck()
    {
        await using var db = await TestDatabase.OpenAsync(path: _copyPath);
        using var lease = await db.Database.Pool.AcquireAsync(Ct);

        Assert.Empty(lease.Connection.Query("PRAGMA foreign_key_check"));
        Assert.Equal(new[] { "ok" }, lease.Connection.Query<string>("PRAGMA integrity_check"));
        Assert.Equal(MigrationRunner.LatestVersion, lease.Connection.ExecuteScalar<int>("PRAGMA user_version"));
    }

    [Fact]
    public async Task SpecSummariesCountTheBackfilledRows()
    {
        await using var db = await TestDatabase.OpenAsync(path: _copyPath);

        var specs = await db.Get<SpecRepository>().ListAsync(new PageRequest(Limit: 10), Ct);

        var a = Assert.Single(specs.Items, spec => spec.SpecId == "SPEC-A");
        Assert.Equal(new[] { "spec-plan", "spec-tasks" }, a.Stages);
        Assert.Equal(3, a.RunCount);
        Assert.Equal(6, a.ArtifactCount);
        Assert.Equal(new[] { "SPEC-A", "SPEC-B", "SPEC-C" }, specs.Items.Select(spec => spec.SpecId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SecondStartChangesNothing()
    {
        await using var first = await TestDatabase.OpenAsync(path: _copyPath);
        await first.Database.DisposeAsync();
        Dictionary<string, List<string>> afterFirst;
        using (var raw = SqliteFiles.OpenRaw(_copyPath))
        {
            afterFirst = Everything(raw);
        }

        await using var second = await TestDatabase.OpenAsync(path: _copyPath);
        using var lease = await second.Database.Pool.AcquireAsync(Ct);
        var afterSecond = Everything(lease.Connection);

        Assert.Equal(9, afterFirst["agent_outputs"].Count);
        Assert.Equal(5, afterFirst["run_syntheses"].Count);
        foreach (var (table, rows) in afterFirst)
        {
            Assert.Equal(rows, afterSecond[table]);
        }
    }

    [Fact]
    public async Task RowsAnOldWriterAddsAfterMigrationAreBackfilledOnTheNextStart()
    {
        await using var first = await TestDatabase.OpenAsync(path: _copyPath);
        var run1 = (await first.Get<ArtifactRepository>().GetAsync(1, Ct)).RunId;
        await first.Database.DisposeAsync();
        long lateRun1, lateNew, lateSynthesis;
        Dictionary<string, long> before;
        using (var terminalUi = SqliteFiles.OpenRaw(_copyPath))
        {
            before = SqliteFiles.CountAll(terminalUi);
            lateRun1 = terminalUi.ExecuteScalar<long>("""
                INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, response_text, run_id, created_at)
                VALUES ('SPEC-A', 'spec-plan', 'gemini', '{"late":true}', 'late answer', 'run-1', '2026-01-02 03:09:00') RETURNING id
                """);
            lateNew = terminalUi.ExecuteScalar<long>("""
                INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, created_at)
                VALUES ('SPEC-D', 'spec-plan', 'claude', '{"new":1}', '2026-02-01 00:00:00') RETURNING id
                """);
            lateSynthesis = terminalUi.ExecuteScalar<long>("""
                INSERT INTO consensus_synthesis (spec_id, stage, output_markdown, output_path, status, artifacts_count, agreements, conflicts, degraded, created_at)
                VALUES ('SPEC-D', 'spec-plan', '# D', 'docs/SPEC-D/plan.md', 'ok', 1, 'only one', NULL, 0, '2026-02-01 00:05:00') RETURNING id
                """);
        }

        await using var second = await TestDatabase.OpenAsync(path: _copyPath);
        var artifacts = second.Get<ArtifactRepository>();
        var late = await artifacts.GetAsync(lateRun1, Ct);
        var fresh = await artifacts.GetAsync(lateNew, Ct);
        var synthesis = await second.Get<SynthesisRepository>().LatestAsync("SPEC-D", "spec-plan", Ct);
        using var lease = await second.Database.Pool.AcquireAsync(Ct);
        var after = SqliteFiles.CountAll(lease.Connection);

        Assert.Equal((10L, 11L, 6L), (lateRun1, lateNew, lateSynthesis));
        Assert.Equal(run1, late.RunId); // joins the run of its run_id
        Assert.Equal("late answer", late.ResponseText);
        Assert.Equal(Utc("2026-02-01 00:00:00"), fresh.CreatedAt);
        Assert.Equal(lateSynthesis, synthesis.Id);
        Assert.Equal(fresh.RunId, synthesis.RunId);
        Assert.Equal("only one", synthesis.Agreements);
        Assert.Equal(before["agent_outputs"] + 2, after["agent_outputs"]);
        Assert.Equal(before["run_syntheses"] + 1, after["run_syntheses"]);
        Assert.Equal(before["consensus_runs"] + 1, after["consensus_runs"]);
        Assert.Null(DualWriteValidator.CheckArtifact(lease.Connection, lateRun1).Difference);
        Assert.Null(DualWriteValidator.CheckArtifact(lease.Connection, lateNew).Difference);
        Assert.Null(DualWriteValidator.CheckSynthesis(lease.Connection, lateSynthesis).Difference);
    }

    [Fact]
    public async Task NewWritesAfterMigrationContinueTheLegacyIdSequence()
    {
        await using var db = await TestDatabase.OpenAsync(path: _copyPath);

        var stored = await db.Get<ArtifactRepository>().StoreAsync(SqliteFiles.Artifact(specId: "SPEC-A"), key: null, Ct);

        Assert.Equal(10, stored.Value.Id);
        using var legacy = SqliteFiles.OpenRaw(_copyPath);
        Assert.Equal("SPEC-A", legacy.ExecuteScalar<string>("SELECT spec_id FROM consensus_artifacts WHERE id = 10"));
        Assert.Equal(new DualWriteSnapshot(1, 1, 0), db.Get<DualWriteTelemetry>().Snapshot());
    }

    [Fact]
    public async Task LegacyGroupsSharingATimestampGetDistinctRunsAMillisecondApart()
    {
        var path = _copy.File("shared-timestamp.db");
        LegacyDatabase.Create(path, connection => connection.Execute("""
            INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json, run_id, created_at) VALUES
                ('SPEC-T', 'spec-plan', 'gemini', '{}', NULL, '2026-01-07 07:07:07'),
                ('SPEC-T', 'spec-plan', 'claude', '{}', 'run-t', '2026-01-07 07:07:07');
            """));

        await using var db = await TestDatabase.OpenAsync(path: path);
        var artifacts = db.Get<ArtifactRepository>();
        var withoutRunId = await artifacts.GetAsync(1, Ct);
        var withRunId = await artifacts.GetAsync(2, Ct);

        Assert.NotEqual(withoutRunId.RunId, withRunId.RunId);
        Assert.Equal(Ms("2026-01-07 07:07:07"), withoutRunId.RunTimestamp);
        Assert.Equal(Ms("2026-01-07 07:07:07") + 1, withRunId.RunTimestamp);
        Assert.Equal(withoutRunId.CreatedAt, withRunId.CreatedAt);
    }

    private sealed class LegacyArtifact
    {
        public long Id { get; set; }
        public string SpecId { get; set; } = "";
        public string Stage { get; set; } = "";
        public string AgentName { get; set; } = "";
        public string ContentJson { get; set; } = "";
        public string? ResponseText { get; set; }
        public string? RunId { get; set; }
        public string CreatedAt { get; set; } = "";
    }

    private sealed class LegacySynthesis
    {
        public long Id { get; set; }
        public string SpecId { get; set; } = "";
        public string Stage { get; set; } = "";
        public string OutputMarkdown { get; set; } = "";
        public string? OutputPath { get; set; }
        public string Status { get; set; } = "";
        public long? ArtifactsCount { get; set; }
        public string? Agreements { get; set; }
        public string? Conflicts { get; set; }
        public long Degraded { get; set; }
        public string? RunId { get; set; }
        public string CreatedAt { get; set; } = "";
    }
}
