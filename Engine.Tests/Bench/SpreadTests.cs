using SlateSharp.Bench.Compare;

namespace SlateSharp.Tests.Bench;

/// <summary>The compare report's min – median – max over rounds and its per-round ratios.</summary>
public sealed class SpreadTests
{
    [Test]
    public void MedianOfAnOddCountIsTheMiddleValue()
    {
        Assert.That(Spread.Of([3, 1, 2]), Is.EqualTo(new Spread(1, 2, 3)));
    }

    [Test]
    public void MedianOfAnEvenCountIsTheMeanOfTheMiddleTwo()
    {
        Assert.That(Spread.Of([4, 1, 3, 2]), Is.EqualTo(new Spread(1, 2.5, 4)));
    }

    [Test]
    public void NoValuesIsNaNAndFormatsAsADash()
    {
        var spread = Spread.Of([]);

        Assert.That(double.IsNaN(spread.Median));
        Assert.That(spread.Format("0.00"), Is.EqualTo("–"));
    }

    [Test]
    public void RatiosPairRoundsByIndexNotBySortedValue()
    {
        // Round 1 ran under load for both (100 vs 50), round 2 without (300 vs 100), round 3 in between (200 vs 200).
        var ours = new Dictionary<int, double> { [1] = 100, [2] = 300, [3] = 200 };
        var theirs = new Dictionary<int, double> { [1] = 50, [2] = 100, [3] = 200 };

        var ratio = Spread.OfRatios(ours, theirs);

        // Per-round ratios 2, 3, 1; a ratio of medians would say 200 / 100 = 2 with no spread.
        Assert.That(ratio, Is.EqualTo(new Spread(1, 2, 3)));
        Assert.That(ratio.Format("0.00"), Is.EqualTo("1.00 – 2.00 – 3.00"));
    }

    [Test]
    public void ARoundMissingOnEitherSideOrAZeroDenominatorIsLeftOut()
    {
        var ours = new Dictionary<int, double> { [1] = 10, [2] = 20, [3] = 30 };
        var theirs = new Dictionary<int, double> { [1] = 5, [3] = 0 };

        Assert.That(Spread.OfRatios(ours, theirs), Is.EqualTo(new Spread(2, 2, 2)));
        Assert.That(Spread.OfRatios(ours, theirs).Format("0.00"), Is.EqualTo("2.00"));
    }
}
