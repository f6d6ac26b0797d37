using System.Diagnostics;
using System.Globalization;
using ConsensusApi.Tools;

// dotnet run --project tools/LegacyDbGenerator -- --out X.db --artifacts 50000 [--seed 42] [--churn 0.6]
var options = new LegacyDatabaseOptions();
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--out" when value is not null:
            output = value;
            i++;
            break;
        case "--artifacts" when value is not null:
            options = options with { Artifacts = int.Parse(value, CultureInfo.InvariantCulture) };
            i++;
            break;
        case "--seed" when value is not null:
            options = options with { Seed = int.Parse(value, CultureInfo.InvariantCulture) };
            i++;
            break;
        case "--churn" when value is not null:
            options = options with { Churn = double.Parse(value, CultureInfo.InvariantCulture) };
            i++;
            break;
        default:
            await Console.Error.WriteLineAsync("usage: LegacyDbGenerator --out FILE [--artifacts N] [--seed S] [--churn 0..0.95]");
            return 2;
    }
}

if (output is null)
{
    await Console.Error.WriteLineAsync("usage: LegacyDbGenerator --out FILE [--artifacts N] [--seed S] [--churn 0..0.95]");
    return 2;
}

var watch = Stopwatch.StartNew();
var stats = LegacyDatabaseGenerator.Generate(output, options);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
    {stats.Path}: {stats.FileBytes} bytes ({stats.FreelistBytes} in free pages), page size {stats.PageSize}, journal {stats.JournalMode}, auto_vacuum {stats.AutoVacuum}
    {stats.LiveArtifacts} artifacts and {stats.LiveSyntheses} syntheses live over {stats.Specs} specs ({stats.SpecStages} spec/stage pairs), {stats.AgentExecutions} agent executions;
    {stats.InsertedArtifacts} artifacts and {stats.InsertedSyntheses} syntheses written over {stats.Days} days, {stats.DeletedSpecs} specs deleted; {watch.ElapsedMilliseconds} ms
    """));
return 0;
