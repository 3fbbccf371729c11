using ScottPlot;

namespace SlateSharp.Bench.Compare;

/// <summary>
/// Working set and managed heap over a run as a line chart (ScottPlot, rendered by SkiaSharp without a display).
/// The file name decides the format: .svg writes vector output, anything else PNG.
/// </summary>
internal static class MemoryChart
{
    public static void Write(string path, string title, IReadOnlyList<(double Seconds, long Rss, long Heap)> samples)
    {
        var plot = new Plot();
        var seconds = samples.Select(s => s.Seconds).ToArray();
        var rss = plot.Add.Scatter(seconds, samples.Select(s => s.Rss / 1e6).ToArray());
        rss.LegendText = "working set (RSS)";
        rss.MarkerSize = 0;
        var heap = plot.Add.Scatter(seconds, samples.Select(s => s.Heap / 1e6).ToArray());
        heap.LegendText = "managed heap";
        heap.MarkerSize = 0;
        plot.Title(title);
        plot.XLabel("seconds");
        plot.YLabel("MB");
        plot.ShowLegend(Alignment.UpperLeft);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
        {
            plot.SaveSvg(path, 1000, 500);
        }
        else
        {
            plot.SavePng(path, 1000, 500);
        }
    }
}
