using System.Net;
using System.Net.Sockets;
using ConsensusApi.LoadTests.Reports;

namespace ConsensusApi.LoadTests;

/// <summary>The command-line entry point.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        Command command;
        LoadTestOptions options;
        try
        {
            (command, options) = CommandLine.Parse(args);
        }
        catch (CommandLineException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            await Console.Error.WriteLineAsync("Run with --help for the options.");
            return LoadTestRunner.Usage;
        }

        switch (command)
        {
            case Command.Help:
                await Console.Out.WriteAsync(CommandLine.Usage());
                return 0;
            case Command.FreePort:
                using (var listener = new TcpListener(IPAddress.Loopback, 0))
                {
                    listener.Start();
                    await Console.Out.WriteLineAsync(((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                return 0;
            case Command.Report:
                if (!File.Exists(Path.Combine(options.OutputFolder, ReportWriter.JsonFile)))
                {
                    await Console.Error.WriteLineAsync($"No {ReportWriter.JsonFile} in {options.OutputFolder} (give the run's folder with --out).");
                    return LoadTestRunner.CouldNotRun;
                }

                var report = await CrossCheckReport.MergeAsync(options.OutputFolder, cancel.Token);
                foreach (var check in report.CrossChecks ?? [])
                {
                    await Console.Out.WriteLineAsync(
                        $"{check.Scenario}: tool {Format.Number(check.ToolRps)} rps, wrk {Format.Number(check.WrkRps)} rps ({Format.SignedPercent(check.RpsDifference)}), {(check.WithinTolerance ? "within 25%" : "NOT within 25%: see the report")}");
                }

                return report.Passed ? LoadTestRunner.Passed : LoadTestRunner.Failed;
            default:
                try
                {
                    return await LoadTestRunner.RunAsync(options, cancel.Token);
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    await Console.Error.WriteLineAsync("Stopped.");
                    return LoadTestRunner.Failed;
                }
        }
    }
}
