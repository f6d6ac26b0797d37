using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Time.Testing;
using SQLitePCL;
using static ConsensusApi.Tests.Domain.Storage.StorageTestData;

namespace ConsensusApi.Tests.Domain.Storage;

/// <summary>
/// Every read path's SQL, exactly as the repositories run it, must be served by an index on a
/// freshly migrated database without statistics: no full scan of a table and no sort of a
/// stage (<c>USE TEMP B-TREE FOR ORDER BY</c>), so a read's cost does not grow with the rows stored.
/// </summary>
public class QueryPlanTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> ReadPaths =>
    [
        "get artifact", "list artifacts", "list artifacts after cursor", "list artifacts of agent", "list artifacts of agent after cursor",
        "get run", "list runs", "list runs after cursor", "latest run", "run outputs", "latest synthesis",
        "list specs", "list specs after cursor", "spec stages",
    ];

    [Theory]
    [MemberData(nameof(ReadPaths))]
    public async Task ReadPathIsServedByAnIndexWithoutSortingOrScanning(string readPath)
    {
        await using var db = await SeededAsync();
        var (sql, parameters, expected) = Query(readPath);

        var plan = await PlanAsync(db, sql, parameters);

        Assert.Equal(0, Scalar(db.Path, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, IsFullScan);
        foreach (var step in expected)
        {
            Assert.Contains(step, plan);
        }
    }

    /// <summary>The read paths run as prepared statements (the spec stages lookup expands a list, so Dapper runs it).</summary>
    public static TheoryData<string> PreparedReadPaths => [.. ReadPaths.Select(row => row.Data).Where(path => path != "spec stages")];

    /// <summary>
    /// A statement SQLite must compile again before each run costs a parse and a plan on every read:
    /// that is what a <c>LIMIT</c> bound to a parameter does, since SQLite plans with the bound value.
    /// </summary>
    [Theory]
    [MemberData(nameof(PreparedReadPaths))]
    public async Task ReadPathRunsWithoutBeingCompiledAgain(string readPath)
    {
        await using var db = await SeededAsync();
        var (sql, parameters, _) = Query(readPath);
        var values = parameters.GetType().GetProperties().Select(property => ("@" + property.Name, property.GetValue(parameters))).ToArray();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db.Path}");
        connection.Open();
        connection.Handle!.enable_sqlite3_next_stmt(true);

        for (var run = 0; run < 3; run++)
        {
            connection.QueryPrepared(sql, 51, reader => reader.GetValue(0), values);
        }

        var (runs, recompilations) = Status(connection, sql);
        Assert.Equal(3, runs);
        Assert.Equal(0, recompilations);
        PreparedStatements.Forget(connection);
    }

    /// <summary>How often the statement for <paramref name="sql"/> ran on this connection, and how often SQLite compiled it again first.</summary>
    private static (int Runs, int Recompilations) Status(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        const int StatusReprepare = 5;
        const int StatusRun = 6;
        for (var statement = raw.sqlite3_next_stmt(connection.Handle, null); statement is not null; statement = raw.sqlite3_next_stmt(connection.Handle, statement))
        {
            if (raw.sqlite3_sql(statement).utf8_to_string().Trim() == sql.Trim())
            {
                return (raw.sqlite3_stmt_status(statement, StatusRun, 0), raw.sqlite3_stmt_status(statement, StatusReprepare, 0));
            }
        }

        throw new InvalidOperationException("The statement was not found on the connection.");
    }

    private static (string Sql, object Parameters, string[] Expected) Query(string readPath)
    {
        const string outputsByStage = "SEARCH o USING INDEX idx_agent_outputs_stage_newest";
        const string outputsByAgent = "SEARCH o USING INDEX idx_agent_outputs_agent_stage_newest";
        const string runById = "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)";
        var list = new { specId = SpecId, stage = Stage, agentName = "gemini", ts = 5000L, id = 10L };
        return readPath switch
        {
            "get artifact" => (ArtifactRepository.GetSql, new { id = 3L },
                ["SEARCH o USING INTEGER PRIMARY KEY (rowid=?)", runById]),
            "list artifacts" => (ArtifactRepository.ListSql(byAgent: false, afterCursor: false), list,
                [outputsByStage + " (spec_id=? AND stage=?)", runById]),
            "list artifacts after cursor" => (ArtifactRepository.ListSql(byAgent: false, afterCursor: true), list,
                [outputsByStage + " (spec_id=? AND stage=? AND output_timestamp<?)", runById]),
            "list artifacts of agent" => (ArtifactRepository.ListSql(byAgent: true, afterCursor: false), list,
                [outputsByAgent + " (agent_name=? AND spec_id=? AND stage=?)", runById]),
            "list artifacts of agent after cursor" => (ArtifactRepository.ListSql(byAgent: true, afterCursor: true), list,
                [outputsByAgent + " (agent_name=? AND spec_id=? AND stage=? AND output_timestamp<?)", runById]),
            "get run" => (RunRepository.GetSql, new { id = 2L }, [runById]),
            "list runs" => (RunRepository.ListSql(afterCursor: false), list,
                ["SEARCH r USING INDEX sqlite_autoindex_consensus_runs_1 (spec_id=? AND stage=?)"]),
            "list runs after cursor" => (RunRepository.ListSql(afterCursor: true), list,
                ["SEARCH r USING INDEX sqlite_autoindex_consensus_runs_1 (spec_id=? AND stage=? AND run_timestamp<?)"]),
            "latest run" => (RunRepository.LatestSql, list,
                ["SEARCH r USING INDEX sqlite_autoindex_consensus_runs_1 (spec_id=? AND stage=?)"]),
            "run outputs" => (RunRepository.OutputsSql, new { runId = 2L },
                [runById, "SEARCH o USING INDEX idx_agent_outputs_run (run_id=?)"]),
            "latest synthesis" => (SynthesisRepository.LatestSql, list,
                ["SEARCH s USING INDEX idx_run_syntheses_stage_newest (spec_id=? AND stage=?)", runById]),
            // The one read without a WHERE: it walks idx_specs_activity from its newest end and stops
            // after a page, which SQLite reports as a SCAN of that index, not of the table.
            "list specs" => (SpecRepository.ListSql(afterCursor: false), new { },
                ["SCAN specs USING INDEX idx_specs_activity"]),
            "list specs after cursor" => (SpecRepository.ListSql(afterCursor: true), new { ts = 5000L, key = "SPEC-3" },
                ["SEARCH specs USING INDEX idx_specs_activity ((last_activity_at,spec_id)<(?,?))"]),
            "spec stages" => (SpecRepository.StagesSql, new { ids = new[] { "SPEC-1", "SPEC-2", SpecId } },
                ["SEARCH spec_stages USING PRIMARY KEY (spec_id=?)"]),
            _ => throw new ArgumentOutOfRangeException(nameof(readPath), readPath, null),
        };
    }

    /// <summary>A step that reads a whole table: <c>SCAN t</c> without an index.</summary>
    private static bool IsFullScan(string step) =>
        step.StartsWith("SCAN ", StringComparison.Ordinal) && !step.Contains(" USING ", StringComparison.Ordinal);

    private static async Task<IReadOnlyList<string>> PlanAsync(TestDatabase db, string sql, object parameters)
    {
        using var lease = await db.Database.Pool.AcquireAsync(Ct);
        return [.. lease.Connection.Query<(long Id, long Parent, long NotUsed, string Detail)>("EXPLAIN QUERY PLAN " + sql, parameters)
            .Select(row => row.Detail)];
    }

    /// <summary>A migrated database with a few specs, stages, agents, runs and syntheses; never analyzed.</summary>
    private static async Task<TestDatabase> SeededAsync()
    {
        var clock = new FakeTimeProvider(Start);
        var db = await TestDatabase.OpenAsync(timeProvider: clock);
        var artifacts = db.Get<ArtifactRepository>();
        var items = new List<ArtifactRequest>();
        foreach (var spec in new[] { SpecId, "SPEC-1", "SPEC-2", "SPEC-3" })
        {
            foreach (var stage in new[] { Stage, "spec-tasks", "spec-implement" })
            {
                for (var run = 0; run < 3; run++)
                {
                    items.AddRange(new[] { "gemini", "claude", "gpt" }.Select(agent => Artifact(spec, stage, agent, 1000 + run)));
                }
            }
        }

        await artifacts.StoreBatchAsync(new ArtifactBatchRequest { Items = items }, null, Ct);
        clock.Advance(TimeSpan.FromSeconds(1));
        await db.Get<SynthesisRepository>().StoreAsync(Synthesis(runTimestamp: 1000), null, Ct);
        await db.Get<SynthesisRepository>().StoreAsync(Synthesis("SPEC-1", runTimestamp: 1001), null, Ct);
        return db;
    }
}
