using System.Globalization;
using ConsensusApi.LoadTests.Reports;

namespace ConsensusApi.LoadTests.Engine;

/// <summary>The line that shows, once a second, where a run is.</summary>
public sealed class ProgressLine(TextWriter writer, bool inPlace)
{
    private bool _open;

    /// <summary>One second's state.</summary>
    public void Show(string label, double elapsed, double total, bool warmup, TimePoint point, StatsSnapshot counters)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(counters);
        var rss = point.RssMb is { } mb ? string.Create(CultureInfo.InvariantCulture, $"  rss {mb:0} MB") : "";
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"{label,-18} {elapsed,5:0.0}/{total:0}s {(warmup ? "warm-up" : "measure"),-7}  rps {point.Rps,8:0}  p99 {point.P99,7:0.00} ms  errors {counters.ErrorCount}  integrity failures {counters.IntegrityFailures}/{counters.IntegrityChecks}{rss}");
        if (inPlace)
        {
            writer.Write("\r" + line.PadRight(150));
            _open = true;
        }
        else
        {
            writer.WriteLine(line);
        }
    }

    /// <summary>Ends an in-place line.</summary>
    public void Done()
    {
        if (_open)
        {
            writer.WriteLine();
            _open = false;
        }
    }
}
