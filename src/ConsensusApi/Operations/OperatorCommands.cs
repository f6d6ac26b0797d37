using System.CommandLine;
using System.Globalization;
using ConsensusApi.Domain.Errors;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace ConsensusApi.Operations;

/// <summary>
/// Operator commands of the service binary (<c>ConsensusApi migrate|verify|vacuum|backup|stats</c>):
/// they work on the database file without starting the HTTP server. Exit codes: 0 done, 1 a problem
/// was found or the work failed, 2 the command line was wrong.
/// </summary>
internal static class OperatorCommands
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    private static readonly HashSet<string> Names = new(StringComparer.Ordinal) { "migrate", "verify", "vacuum", "backup", "stats" };
    private static readonly HashSet<string> HelpTokens = new(StringComparer.Ordinal) { "--help", "-h", "-?", "help" };

    /// <summary>
    /// True when the arguments name a command, ask for help, or start with a bare word that is no
    /// setting (<c>Key=Value</c>): a mistyped command is reported rather than starting the service.
    /// Everything else (<c>--urls ...</c>, <c>Database:Path=...</c>) runs the service.
    /// </summary>
    public static bool Handles(IReadOnlyList<string> args) =>
        args.Count > 0 && (Names.Contains(args[0]) || HelpTokens.Contains(args[0]) || IsBareWord(args[0]));

    private static bool IsBareWord(string arg) => arg.Length > 0 && arg[0] is not ('-' or '/') && !arg.Contains('=', StringComparison.Ordinal);

    /// <summary>Parses and runs a command; returns its exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args is ["help", .. var rest])
        {
            args = [.. rest, "--help"];
        }

        var root = Build(output);
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var parseError in result.Errors)
            {
                await error.WriteLineAsync(parseError.Message);
            }

            var command = result.CommandResult.Command == root ? "" : " " + result.CommandResult.Command.Name;
            await error.WriteLineAsync($"Run 'ConsensusApi{command} --help' for usage.");
            return Usage;
        }

        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler cancel = (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        Console.CancelKeyPress += cancel;
        try
        {
            return await result.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellation.Token);
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            await error.WriteLineAsync($"ConsensusApi {result.CommandResult.Command.Name}: {message}");
            return Failed;
        }
        finally
        {
            Console.CancelKeyPress -= cancel;
        }
    }

    private static RootCommand Build(TextWriter output)
    {
        var root = new RootCommand(
            "ConsensusApi: the consensus artifacts HTTP service. Without a command it runs the service " +
            "(dotnet ConsensusApi.dll [--urls http://127.0.0.1:5000]). The commands below work on the database " +
            "file without starting the server, with the service's configuration (appsettings.json beside the " +
            "binary, then the environment, e.g. Database__Path); --db PATH overrides Database:Path. " +
            "Exit codes: 0 done, 1 a problem was found or the work failed, 2 wrong usage.");
        root.Subcommands.Add(MigrateCommand.Create(output));
        root.Subcommands.Add(VerifyCommand.Create(output));
        root.Subcommands.Add(VacuumCommand.Create(output));
        root.Subcommands.Add(BackupCommand.Create(output));
        root.Subcommands.Add(StatsCommand.Create(output));
        return root;
    }

    /// <summary>The <c>--db</c> option every command takes.</summary>
    public static Option<string?> DatabaseOption() => new("--db")
    {
        Description = "The database file; overrides Database:Path of appsettings.json and the environment.",
        HelpName = "PATH",
    };

    /// <summary>One line for the operator, or null for a failure that deserves its stack trace.</summary>
    private static string? Describe(Exception exception) => exception switch
    {
        OperatorException or DatabaseStartupException or StorageUnavailableException or StorageFullException => exception.Message,
        OptionsValidationException validation => "invalid settings: " + validation.Message,
        AggregateException { InnerExceptions: var inner } when inner.All(e => e is OptionsValidationException) =>
            "invalid settings: " + string.Join("; ", inner.Select(e => e.Message)),
        FileNotFoundException or IOException or UnauthorizedAccessException => exception.Message,
        SqliteException sqlite => $"SQLite error {sqlite.SqliteErrorCode}: {sqlite.Message}",
        OperationCanceledException => "cancelled.",
        _ => null,
    };

    /// <summary>A byte count as operators read it: exact, and in binary units.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        var exact = bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes";
        return unit == 0 ? exact : string.Create(CultureInfo.InvariantCulture, $"{exact} ({value:0.0} {units[unit]})");
    }
}
