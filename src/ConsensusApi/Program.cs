using ConsensusApi.Auth;
using ConsensusApi.Domain;
using ConsensusApi.Domain.Errors;
using ConsensusApi.Hosting;
using ConsensusApi.Operations;
using Microsoft.Extensions.Options;

if (OperatorCommands.Handles(args))
{
    // migrate, verify, vacuum, backup, stats: on the database file, without the HTTP server.
    return await OperatorCommands.RunAsync(args, Console.Out, Console.Error);
}

try
{
    var builder = WebApplication.CreateBuilder(SettingsFile.WithoutReloadOnChange(args));
    builder.Configuration.ReadSettingsBesideBinary();
    builder.Logging.ReportStartupFailuresOnce();
    builder.Services.AddConsensusDomain();
    builder.Services.AddConsensusApi();

    var app = builder.Build();
    // Every invalid setting at once, before any service reads its options.
    app.Services.GetRequiredService<IStartupValidator>().Validate();
    app.UseConsensusPipeline();
    app.MapConsensusEndpoints();
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is DatabaseStartupException or OptionsValidationException or StartupRefusedException
    // Kestrel could not bind: the address is taken, or not this machine's, or needs privileges.
    || (ex is IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException or System.Net.Sockets.SocketException })
    || (ex is AggregateException { InnerExceptions: var inner } && inner.All(e => e is OptionsValidationException))
    || (ex is InvalidOperationException && ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)))
{
    // One clear line for the operator instead of a stack trace. Start-up validation reports
    // several invalid sections together, as an AggregateException of their failures.
    var message = ex is AggregateException all ? string.Join("; ", all.InnerExceptions.Select(e => e.Message)) : ex.Message;
    await Console.Error.WriteLineAsync($"ConsensusApi cannot start: {message}");
    return 1;
}

/// <summary>Entry point, visible to the test host.</summary>
public partial class Program;
