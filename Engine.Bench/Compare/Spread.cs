namespace SlateSharp.Bench.Compare;

/// <summary>Min, median and max of a figure over rounds: on a shared machine one number hides how much it moved.</summary>
internal readonly record struct Spread(double Min, double Median, double Max)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Spread(double.NaN, double.NaN, double.NaN);
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(sorted[0], median, sorted[^1]);
    }

    /// <summary>
    /// The spread of per-round ratios ours[r] / theirs[r], pairing rounds by index: runs of one round ran back to back
    /// under the same load, so their ratio cancels load that the ratio of two medians would not. A round missing on
    /// either side, or a zero denominator, is left out.
    /// </summary>
    public static Spread OfRatios(IReadOnlyDictionary<int, double> ours, IReadOnlyDictionary<int, double> theirs) =>
        Of(ours.Where(o => theirs.TryGetValue(o.Key, out var t) && t != 0).Select(o => o.Value / theirs[o.Key]));

    /// <summary>"min – median – max", or the one value when they are equal (a single round), or "–" when there is none.</summary>
    public string Format(string number) =>
        double.IsNaN(Median) ? "–"
        : Min.ToString(number, Inv) == Max.ToString(number, Inv) ? Median.ToString(number, Inv)
        : $"{Min.ToString(number, Inv)} – {Median.ToString(number, Inv)} – {Max.ToString(number, Inv)}";

    private static IFormatProvider Inv => System.Globalization.CultureInfo.InvariantCulture;
}
