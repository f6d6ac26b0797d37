using System.Text.Json;

namespace ConsensusApi.LoadTests.Reports;

/// <summary>Writes a report as report.json, report.md and report.html, and reads report.json back.</summary>
public static class ReportWriter
{
    /// <summary>The JSON report's file name.</summary>
    public const string JsonFile = "report.json";

    /// <summary>The Markdown report's file name.</summary>
    public const string MarkdownFile = "report.md";

    /// <summary>The HTML report's file name.</summary>
    public const string HtmlFile = "report.html";

    /// <summary>Writes the three files and returns their paths.</summary>
    public static async Task<IReadOnlyList<string>> WriteAsync(LoadTestReport report, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var json = Path.Combine(folder, JsonFile);
        var markdown = Path.Combine(folder, MarkdownFile);
        var html = Path.Combine(folder, HtmlFile);
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, ReportJsonContext.Default.LoadTestReport) + "\n", cancellationToken);
        await File.WriteAllTextAsync(markdown, MarkdownReport.Render(report), cancellationToken);
        await File.WriteAllTextAsync(html, HtmlReport.Render(report), cancellationToken);
        return [markdown, json, html];
    }

    /// <summary>Reads a report.json written by <see cref="WriteAsync"/>.</summary>
    public static async Task<LoadTestReport> ReadAsync(string folder, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(Path.Combine(folder, JsonFile));
        return await JsonSerializer.DeserializeAsync(stream, ReportJsonContext.Default.LoadTestReport, cancellationToken)
            ?? throw new InvalidDataException($"{JsonFile} in {folder} is empty.");
    }
}
