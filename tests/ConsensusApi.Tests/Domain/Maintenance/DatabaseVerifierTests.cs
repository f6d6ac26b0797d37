using ConsensusApi.Domain.Maintenance;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Time.Testing;

namespace ConsensusApi.Tests.Domain.Maintenance;

public sealed class DatabaseVerifierTests
{
    private const long RunTimestamp = 1_767_000_000_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<TestDatabase> SeededAsync()
    {
        var time = new FakeTimeProvider(StorageTestData.Start);
        var database = await TestDatabase.OpenAsync(timeProvider: time);
        var artifacts = database.Get<ArtifactRepository>();
        var syntheses = database.Get<SynthesisRepository>();
        await artifacts.StoreAsync(StorageTestData.Artifact(agentName: "gemini", runTimestamp: RunTimestamp), null, Ct);
        await artifacts.StoreAsync(StorageTestData.Artifact(agentName: "claude", runTimestamp: RunTimestamp), null, Ct);
        // Two syntheses of one run: the run's synthesis_json holds only the second.
        await syntheses.StoreAsync(StorageTestData.Synthesis(runTimestamp: RunTimestamp, markdown: "# First"), null, Ct);
        time.Advance(TimeSpan.FromSeconds(1));
        await syntheses.StoreAsync(StorageTestData.Synthesis(runTimestamp: RunTimestamp, markdown: "# Second"), null, Ct);
        return database;
    }

    private static VerificationReport Verify(TestDatabase database) =>
        DatabaseVerifier.Verify(database.Path, database.Get<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value, progress: null, progressEvery: 1, Ct);

    private static void Execute(TestDatabase database, string sql)
    {
        using var connection = StorageTestData.OpenRaw(database.Path);
        connection.Execute(sql);
    }

    [Fact]
    public async Task DatabaseWrittenByTheServiceVerifiesWithoutFindings()
    {
        await using var database = await SeededAsync();

        var report = Verify(database);

        Assert.True(report.Ok, string.Join("\n", report.Findings));
        Assert.Empty(report.Findings);
        Assert.Equal(2, report.ArtifactsChecked);
        Assert.Equal(2, report.SynthesesChecked);
        Assert.Equal(report.LatestVersion, report.SchemaVersion);
        Assert.Equal(8, report.Pragmas.Count);
        Assert.All(report.Pragmas, pragma => Assert.True(pragma.Ok, pragma.Name));
    }

    [Fact]
    public async Task CorruptedArtifactTwinIsAProblemNamingTheRow()
    {
        await using var database = await SeededAsync();
        Execute(database, "UPDATE agent_outputs SET content = 'x' WHERE id = 2");

        var report = Verify(database);

        Assert.False(report.Ok);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(FindingSeverity.Problem, finding.Severity);
        Assert.Equal("dual_write", finding.Check);
        Assert.StartsWith("artifact 2: content differs", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LatestSynthesisDifferingFromItsRunsSynthesisJsonIsAProblem()
    {
        await using var database = await SeededAsync();
        Execute(database, """UPDATE consensus_runs SET synthesis_json = '{"output_markdown":"# Other","output_path":null,"status":"ok","artifacts_count":3,"agreements":null,"conflicts":null}'""");

        var report = Verify(database);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(FindingSeverity.Problem, finding.Severity);
        Assert.StartsWith("synthesis 2: run synthesis_json differs", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OlderSynthesisIsComparedColumnByColumn()
    {
        await using var database = await SeededAsync();
        Execute(database, "UPDATE run_syntheses SET status = 'failed' WHERE id = 1");

        var report = Verify(database);

        var finding = Assert.Single(report.Findings);
        Assert.StartsWith("synthesis 1: status differs", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunSynthesisReplacedThroughTheRunsEndpointIsAWarning()
    {
        await using var database = await SeededAsync();
        await database.Get<RunRepository>().UpsertAsync(
            new RunUpsertRequest { SpecId = StorageTestData.SpecId, Stage = StorageTestData.Stage, RunTimestamp = RunTimestamp, ConsensusOk = true, Synthesis = StorageTestData.Json("""{"verdict":"ok"}""") },
            null,
            Ct);

        var report = Verify(database);

        Assert.True(report.Ok);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(FindingSeverity.Warning, finding.Severity);
        Assert.Contains("replaced by PUT /api/v1/runs", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NormalizedRowsWithoutLegacyTwinsAreProblems()
    {
        await using var database = await SeededAsync();
        Execute(database, "DELETE FROM consensus_artifacts WHERE id = 1; DELETE FROM consensus_synthesis WHERE id = 1;");

        var report = Verify(database);

        Assert.Contains(report.Findings, f => f.Message.StartsWith("artifact 1: agent_outputs row has no legacy twin", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Message.StartsWith("synthesis 1: run_syntheses row has no legacy twin", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProgressIsReportedForEveryPhase()
    {
        await using var database = await SeededAsync();
        var reports = new List<VerificationProgress>();

        DatabaseVerifier.Verify(database.Path, new DatabaseOptions(), new SynchronousProgress(reports.Add), progressEvery: 1, Ct);

        Assert.Contains(new VerificationProgress("artifacts", 1, 2), reports);
        Assert.Contains(new VerificationProgress("artifacts", 2, 2), reports);
        Assert.Contains(new VerificationProgress("syntheses", 2, 2), reports);
        Assert.Contains(reports, r => r.Phase == "integrity_check");
    }

    [Fact]
    public void LegacyFileIsReportedAsNotMigrated()
    {
        var folder = TestDatabase.NewFolder();
        var path = Path.Combine(folder, "legacy.db");
        LegacyDatabase.Create(path, connection => connection.Execute(
            "INSERT INTO consensus_artifacts (spec_id, stage, agent_name, content_json) VALUES ('SPEC-1', 'spec-plan', 'gemini', '{}')"));

        var report = DatabaseVerifier.Verify(path, new DatabaseOptions(), null, 100, Ct);

        Assert.False(report.Ok);
        Assert.Contains(report.Findings, f => f.Check == "schema" && f.Message.Contains("run migrate", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Severity == FindingSeverity.Warning && f.Message.StartsWith("journal_mode is delete", StringComparison.Ordinal));
        Assert.Equal(0, new FileInfo(path + "-wal").Exists ? 1 : 0);
    }

    private sealed class SynchronousProgress(Action<VerificationProgress> report) : IProgress<VerificationProgress>
    {
        public void Report(VerificationProgress value) => report(value);
    }
}
