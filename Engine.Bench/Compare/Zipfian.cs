namespace SlateSharp.Bench.Compare;

/// <summary>
/// YCSB's scrambled zipfian generator (Gray et al., "Quickly generating billion-record synthetic databases"):
/// rank r is drawn with probability ∝ 1/r^θ, θ = 0.99, then hashed to an index so the hot keys are spread over the
/// key space rather than being the first keys of one SST. Not thread-safe; one per client.
/// </summary>
internal sealed class Zipfian
{
    private const double Theta = 0.99;
    private readonly long _items;
    private readonly double _zetaN;
    private readonly double _alpha;
    private readonly double _eta;
    private readonly Random _random;

    public Zipfian(long items, double zetaN, int seed)
    {
        _items = items;
        _zetaN = zetaN;
        _random = new Random(seed);
        _alpha = 1 / (1 - Theta);
        var zeta2 = Zeta(2);
        _eta = (1 - Math.Pow(2.0 / items, 1 - Theta)) / (1 - (zeta2 / zetaN));
    }

    /// <summary>Σ 1/i^θ for i in 1..n: O(n), computed once per run and shared by the clients.</summary>
    public static double Zeta(long n)
    {
        var sum = 0.0;
        for (long i = 1; i <= n; i++)
        {
            sum += 1 / Math.Pow(i, Theta);
        }

        return sum;
    }

    public long Next()
    {
        var u = _random.NextDouble();
        var uz = u * _zetaN;
        long rank = uz < 1 ? 0 : uz < 1 + Math.Pow(0.5, Theta) ? 1 : (long)(_items * Math.Pow((_eta * u) - _eta + 1, _alpha));
        rank = Math.Min(rank, _items - 1);
        var hashed = (ulong)rank * 0x9E3779B97F4A7C15UL;
        hashed ^= hashed >> 31;
        return (long)(hashed % (ulong)_items);
    }
}
