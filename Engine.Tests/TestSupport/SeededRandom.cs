namespace SlateSharp.Tests.TestSupport;

/// <summary>A seeded <see cref="Random"/> whose seed is printed, so a failing run can be replayed.</summary>
public static class SeededRandom
{
    /// <summary>
    /// Returns a generator seeded from SLATESHARP_TEST_SEED if set, else from <paramref name="defaultSeed"/>, and writes
    /// the seed to the test output.
    /// </summary>
    public static Random Create(int defaultSeed, out int seed)
    {
        seed = TestEnvironment.Get("SLATESHARP_TEST_SEED") is { } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : defaultSeed;
        TestContext.Out.WriteLine($"seed={seed} (replay with SLATESHARP_TEST_SEED={seed})");
        return new Random(seed);
    }
}
