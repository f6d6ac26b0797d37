using Microsoft.Extensions.Logging.Console;

namespace ConsensusApi.Hosting;

/// <summary>How a refused start reaches the operator.</summary>
internal static class StartupFailureLogging
{
    /// <summary>
    /// A refused start (invalid settings, an open service on a public address, a database file
    /// that cannot be served) is printed by <c>Program</c> as one line naming the cause. The
    /// generic host would also log it on the console as an error with a stack trace; that copy
    /// is left out. Its critical messages still show.
    /// </summary>
    public static ILoggingBuilder ReportStartupFailuresOnce(this ILoggingBuilder logging) =>
        logging.AddFilter<ConsoleLoggerProvider>("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
}
