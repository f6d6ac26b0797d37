using System.Globalization;
using ConsensusApi.Domain.Options;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>One pragma's expected and actual value.</summary>
/// <param name="Name">Pragma name, e.g. <c>journal_mode</c>.</param>
/// <param name="Expected">The value the service sets.</param>
/// <param name="Actual">The value read back from the connection.</param>
/// <param name="Ok">Whether they agree.</param>
public sealed record PragmaCheck(string Name, string Expected, string Actual, bool Ok);

/// <summary>
/// The eight connection pragmas, applied once to every physical connection and read back to
/// verify. The one place that knows them.
/// </summary>
internal static class Pragmas
{
    /// <summary>Pragmas whose failure to take stops the service. <c>auto_vacuum</c> is not among them:
    /// a file created without it needs one full VACUUM to switch, which is an operator's decision.</summary>
    private static readonly HashSet<string> Required = new(StringComparer.Ordinal)
    {
        "journal_mode", "synchronous", "foreign_keys", "cache_size", "temp_store", "mmap_size", "busy_timeout",
    };

    public static void Apply(SqliteConnection connection, DatabaseOptions options)
    {
        using var command = connection.CreateCommand();
        // auto_vacuum comes first: on a new file it only takes before the first table exists.
        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"""
            PRAGMA auto_vacuum = INCREMENTAL;
            PRAGMA busy_timeout = {options.BusyTimeoutMs};
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            PRAGMA foreign_keys = ON;
            PRAGMA cache_size = -32000;
            PRAGMA temp_store = MEMORY;
            PRAGMA mmap_size = {options.MmapSizeBytes};
            PRAGMA journal_size_limit = {options.JournalSizeLimitBytes};
            """);
        command.ExecuteNonQuery();
    }

    public static IReadOnlyList<PragmaCheck> Check(SqliteConnection connection, DatabaseOptions options) =>
    [
        Read(connection, "journal_mode", "wal"),
        Read(connection, "synchronous", "1", "NORMAL"),
        Read(connection, "foreign_keys", "1", "ON"),
        Read(connection, "cache_size", "-32000"),
        Read(connection, "temp_store", "2", "MEMORY"),
        Read(connection, "auto_vacuum", "2", "INCREMENTAL"),
        Read(connection, "mmap_size", options.MmapSizeBytes.ToString(CultureInfo.InvariantCulture)),
        Read(connection, "busy_timeout", options.BusyTimeoutMs.ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>Throws naming every required pragma that did not take.</summary>
    public static void Verify(IReadOnlyList<PragmaCheck> checks, string path)
    {
        var failed = checks.Where(check => !check.Ok && Required.Contains(check.Name)).ToList();
        if (failed.Count > 0)
        {
            var details = string.Join("; ", failed.Select(check => $"PRAGMA {check.Name} is {check.Actual}, expected {check.Expected}"));
            throw new Errors.DatabaseStartupException($"Database '{path}': pragmas did not take: {details}.");
        }
    }

    private static PragmaCheck Read(SqliteConnection connection, string name, string expected, string? label = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        var actual = Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? string.Empty;
        var ok = string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase);
        return new PragmaCheck(name, label is null ? expected : $"{expected} ({label})", actual, ok);
    }
}
