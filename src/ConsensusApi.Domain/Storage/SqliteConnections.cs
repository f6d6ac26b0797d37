using ConsensusApi.Domain.Options;
using Microsoft.Data.Sqlite;

namespace ConsensusApi.Domain.Storage;

/// <summary>Creates physical connections to the database file with the service's settings.</summary>
internal static class SqliteConnections
{
    /// <summary>A read-write connection string. The provider's own pooling is off: the
    /// <see cref="SqliteConnectionPool"/> owns every physical connection and its pragmas.</summary>
    public static string ConnectionString(string path, DatabaseOptions options) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = false,
        DefaultTimeout = options.CommandTimeoutSeconds,
    }.ToString();

    /// <summary>Opens a connection and applies the pragmas.</summary>
    public static SqliteConnection Open(string path, DatabaseOptions options)
    {
        var connection = new SqliteConnection(ConnectionString(path, options));
        try
        {
            connection.Open();
            Pragmas.Apply(connection, options);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens a read-only connection that changes nothing in the file (no pragmas, no journal mode).</summary>
    public static SqliteConnection OpenReadOnly(string path) =>
        OpenWith(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());

    /// <summary>Opens an existing file read-write without applying pragmas; never creates the file.</summary>
    public static SqliteConnection OpenExisting(string path) =>
        OpenWith(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());

    /// <summary>True when the connection sits inside an open transaction.</summary>
    public static bool InTransaction(SqliteConnection connection) =>
        connection.Handle is { } handle && SQLitePCL.raw.sqlite3_get_autocommit(handle) == 0;

    private static SqliteConnection OpenWith(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
