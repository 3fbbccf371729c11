using System.Globalization;

namespace SlateSharp.Bench.Workloads;

/// <summary>The workloads' shared argument reading and figure formatting.</summary>
internal static class BenchArgs
{
    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public static long Option(string[] args, string name, long fallback) =>
        Text(args, name) is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The word after <paramref name="name"/>, or null.</summary>
    public static string? Text(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>A latency in µs below a millisecond, in ms above.</summary>
    public static string Micros(TimeSpan t) => t.TotalMilliseconds >= 1 ? $"{t.TotalMilliseconds:0.0} ms" : $"{t.TotalMicroseconds:0.0} µs";
}
