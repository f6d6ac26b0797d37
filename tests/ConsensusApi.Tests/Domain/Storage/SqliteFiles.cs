using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using ConsensusApi.Domain.Models;
using ConsensusApi.Domain.Options;
using ConsensusApi.Domain.Resilience;
using ConsensusApi.Domain.Storage;
using ConsensusApi.Domain.Telemetry;
using ConsensusApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConsensusApi.Tests.Domain.Storage;

/// <summary>Shared helpers of the storage tests: temporary files, raw connections, row counts.</summary>
internal static class SqliteFiles
{
    /// <summary>Every table the latest schema has.</summary>
    public static readonly string[] AllTables =
    [
        "consensus_artifacts", "consensus_synthesis", "consensus_runs", "agent_outputs", "run_syntheses",
        "spec_stages", "specs", "idempotency_keys", "schema_migrations",
    ];

    /// <summary>
    /// A plain connection as another process would open it (no pool, no pragmas but the busy
    /// timeout). Its command timeout is 1 second: 0 would make the provider retry a busy statement forever.
    /// </summary>
    public static SqliteConnection OpenRaw(string path, int busyTimeoutMs = 5000)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = false,
            DefaultTimeout = 1,
        }.ToString());
        connection.Open();
        connection.Execute(string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {busyTimeoutMs}"));
        return connection;
    }

    public static long Count(SqliteConnection connection, string table) =>
        connection.ExecuteScalar<long>($"SELECT count(*) FROM {table}");

    public static long Count(string path, string table)
    {
        using var connection = OpenRaw(path);
        return Count(connection, table);
    }

    /// <summary>Row count of every table of the latest schema.</summary>
    public static Dictionary<string, long> CountAll(SqliteConnection connection) =>
        AllTables.ToDictionary(table => table, table => Count(connection, table), StringComparer.Ordinal);

    /// <summary>Every row of <paramref name="table"/>, all columns as text, in rowid order (tables WITHOUT ROWID by primary key).</summary>
    public static List<string> Dump(SqliteConnection connection, string table, string orderBy = "rowid")
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM {table} ORDER BY {orderBy}";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < reader.FieldCount; i++)
            {
                values[i] = reader.GetName(i) + "=" + (reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture));
            }

            rows.Add(string.Join("|", values));
        }

        return rows;
    }

    /// <summary>The schema objects (type, name, table, SQL), sorted.</summary>
    public static List<string> Schema(SqliteConnection connection) =>
        connection.Query<(string Type, string Name, string Table, string? Sql)>(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
            .Select(row => $"{row.Type}|{row.Name}|{row.Table}|{row.Sql}")
            .ToList();

    public static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    public static DatabaseOptions Options(string path, Action<DatabaseOptions>? configure = null)
    {
        var options = new DatabaseOptions { Path = path };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A pool on <paramref name="path"/> outside any host, with its own meter.</summary>
    public static SqliteConnectionPool Pool(string path, DatabaseOptions options, TestMeterFactory meters, TimeProvider? timeProvider = null, ILogger? logger = null) =>
        new(path, options, new ConsensusMetrics(meters), logger ?? NullLogger.Instance, timeProvider ?? TimeProvider.System);

    /// <summary>A database constructed directly (not through <see cref="TestDatabase"/>), so a failed open leaves the file for inspection.</summary>
    public static ConsensusDatabase Database(string path, TestMeterFactory meters, ILogger<ConsensusDatabase>? logger = null, Action<DatabaseOptions>? configure = null)
    {
        var metrics = new ConsensusMetrics(meters);
        var pipeline = new StoragePipeline(
            Microsoft.Extensions.Options.Options.Create(new RetryOptions()),
            TimeProvider.System,
            new RetryTelemetry(metrics, TimeProvider.System, NullLogger<RetryTelemetry>.Instance),
            NullLogger<StoragePipeline>.Instance);
        return new(Microsoft.Extensions.Options.Options.Create(Options(path, configure)), metrics,
            logger ?? NullLogger<ConsensusDatabase>.Instance, TimeProvider.System, pipeline);
    }

    public static ArtifactRequest Artifact(string specId = "SPEC-KIT-945", string stage = "spec-plan", string agent = "gemini", int n = 0, long? runTimestamp = null) => new()
    {
        SpecId = specId,
        Stage = stage,
        AgentName = agent,
        Content = JsonSerializer.SerializeToElement(new { n, verdict = "agree", notes = new[] { "a", "b" } }),
        ResponseText = $"response {n}",
        ModelVersion = agent + "-2.5",
        PipelineRunId = $"pipeline-{n}",
        RunTimestamp = runTimestamp,
    };

    /// <summary>Deletes a folder created for a test; a file still held open is left to the OS.</summary>
    public static void DeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = TestDatabase.NewFolder();

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => SqliteFiles.DeleteFolder(Path);
}
