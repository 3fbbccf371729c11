using System.Globalization;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Seeds for randomized tests: a fixed default per test, overridable with SLATESHARP_TEST_SEED to reproduce or
/// explore. The seed is printed so a failure can be replayed.
/// </summary>
internal static class TestSeeds
{
    public static int Get(int defaultSeed)
    {
        var text = Environment.GetEnvironmentVariable("SLATESHARP_TEST_SEED");
        var seed = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : defaultSeed;
        TestContext.Out.WriteLine($"seed={seed} (set SLATESHARP_TEST_SEED to override)");
        return seed;
    }
}
