using System.Globalization;
using System.Net;
using System.Text;

namespace ConsensusApi.LoadTests.Reports;

/// <summary>A line of a chart.</summary>
internal sealed record ChartLine(string Name, string Color, IReadOnlyList<(double X, double Y)> Points);

/// <summary>A bar of a bar chart.</summary>
internal sealed record ChartBar(string Label, double Value, string Color, string Text);

/// <summary>Small inline SVG charts, so the HTML report opens offline with nothing to load.</summary>
internal static class SvgChart
{
    private const double Left = 58;
    private const double Right = 14;
    private const double Top = 28;
    private const double Bottom = 36;

    private static readonly double[] NiceFactors = [1, 2, 2.5, 5, 10];
    private static readonly double[] AxisFactors = [1, 2, 4, 6, 8, 10];

    /// <summary>Lines over time; the warm-up (x up to <paramref name="shadeUntil"/>) is shaded.</summary>
    public static string Lines(string title, IReadOnlyList<ChartLine> lines, double shadeUntil, double width = 440, double height = 230)
    {
        var points = lines.SelectMany(l => l.Points).ToList();
        var maxX = points.Count == 0 ? 1 : Math.Max(points.Max(p => p.X), 1);
        var maxY = AxisCeiling(points.Count == 0 ? 1 : points.Max(p => p.Y));
        var plotWidth = width - Left - Right;
        var plotHeight = height - Top - Bottom;
        double X(double x) => Left + (x / maxX * plotWidth);
        double Y(double y) => Top + plotHeight - (y / maxY * plotHeight);

        var svg = Open(title, width, height);
        if (shadeUntil > 0)
        {
            svg.Append(Invariant($"<rect x=\"{Left:0.#}\" y=\"{Top:0.#}\" width=\"{X(Math.Min(shadeUntil, maxX)) - Left:0.#}\" height=\"{plotHeight:0.#}\" fill=\"#eeeeee\"/>"));
            svg.Append(Invariant($"<text x=\"{Left + 4:0.#}\" y=\"{Top + 12:0.#}\" class=\"note\">warm-up</text>"));
        }

        for (var i = 0; i <= 4; i++)
        {
            var value = maxY * i / 4;
            svg.Append(Invariant($"<line x1=\"{Left:0.#}\" x2=\"{width - Right:0.#}\" y1=\"{Y(value):0.#}\" y2=\"{Y(value):0.#}\" class=\"grid\"/>"));
            svg.Append(Invariant($"<text x=\"{Left - 6:0.#}\" y=\"{Y(value) + 4:0.#}\" text-anchor=\"end\">{Label(value)}</text>"));
        }

        var step = Math.Max(1, NiceCeiling(maxX / 6));
        for (var x = 0.0; x <= maxX + 1e-9; x += step)
        {
            svg.Append(Invariant($"<line x1=\"{X(x):0.#}\" x2=\"{X(x):0.#}\" y1=\"{Top + plotHeight:0.#}\" y2=\"{Top + plotHeight + 4:0.#}\" class=\"axis\"/>"));
            svg.Append(Invariant($"<text x=\"{X(x):0.#}\" y=\"{Top + plotHeight + 16:0.#}\" text-anchor=\"middle\">{Label(x)}</text>"));
        }

        svg.Append(Invariant($"<line x1=\"{Left:0.#}\" x2=\"{width - Right:0.#}\" y1=\"{Top + plotHeight:0.#}\" y2=\"{Top + plotHeight:0.#}\" class=\"axis\"/>"));
        svg.Append(Invariant($"<text x=\"{width - Right:0.#}\" y=\"{height - 4:0.#}\" text-anchor=\"end\" class=\"note\">seconds</text>"));
        svg.Append(Invariant($"<text x=\"6\" y=\"16\" class=\"title\">{Escape(title)}</text>"));

        var legendX = width - Right;
        foreach (var line in lines.Reverse())
        {
            svg.Append(Invariant($"<text x=\"{legendX:0.#}\" y=\"16\" text-anchor=\"end\" fill=\"{line.Color}\">{Escape(line.Name)}</text>"));
            legendX -= 12 + (7 * line.Name.Length);
        }

        foreach (var line in lines.Where(l => l.Points.Count > 0))
        {
            var path = string.Join(' ', line.Points.Select(p => Invariant($"{X(p.X):0.#},{Y(p.Y):0.#}")));
            svg.Append(Invariant($"<polyline points=\"{path}\" fill=\"none\" stroke=\"{line.Color}\" stroke-width=\"2\"/>"));
            if (line.Points.Count == 1)
            {
                svg.Append(Invariant($"<circle cx=\"{X(line.Points[0].X):0.#}\" cy=\"{Y(line.Points[0].Y):0.#}\" r=\"3\" fill=\"{line.Color}\"/>"));
            }
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>Horizontal bars, one per row.</summary>
    public static string Bars(string title, IReadOnlyList<ChartBar> bars, double width = 760)
    {
        const double rowHeight = 24;
        const double labelWidth = 170;
        var height = Top + (bars.Count * rowHeight) + 10;
        var max = NiceCeiling(bars.Count == 0 ? 1 : bars.Max(b => b.Value));
        var plotWidth = width - labelWidth - 90;
        var svg = Open(title, width, height);
        svg.Append(Invariant($"<text x=\"6\" y=\"16\" class=\"title\">{Escape(title)}</text>"));
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var y = Top + (i * rowHeight);
            var length = Math.Max(1, bar.Value / max * plotWidth);
            svg.Append(Invariant($"<text x=\"{labelWidth - 8:0.#}\" y=\"{y + 15:0.#}\" text-anchor=\"end\">{Escape(bar.Label)}</text>"));
            svg.Append(Invariant($"<rect x=\"{labelWidth:0.#}\" y=\"{y + 3:0.#}\" width=\"{length:0.#}\" height=\"{rowHeight - 8:0.#}\" fill=\"{bar.Color}\"/>"));
            svg.Append(Invariant($"<text x=\"{labelWidth + length + 6:0.#}\" y=\"{y + 15:0.#}\">{Escape(bar.Text)}</text>"));
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>The smallest of 1, 2, 2.5, 5 times a power of ten at or above <paramref name="value"/>.</summary>
    public static double NiceCeiling(double value) => Ceiling(value, NiceFactors);

    /// <summary>The top of a value axis with four gridline intervals on round numbers.</summary>
    public static double AxisCeiling(double value) => Ceiling(value, AxisFactors);

    private static double Ceiling(double value, double[] factors)
    {
        if (value <= 0 || double.IsNaN(value))
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var factor in factors)
        {
            if (factor * power >= value * 0.999999)
            {
                return factor * power;
            }
        }

        return 10 * power;
    }

    private static StringBuilder Open(string title, double width, double height) => new StringBuilder()
        .Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:0} {height:0}\" width=\"{width:0}\" height=\"{height:0}\" role=\"img\" aria-label=\"{Escape(title)}\">"));

    private static string Label(double value) => value switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (value / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
