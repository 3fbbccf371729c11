namespace SlateSharp.Tests.TestSupport;

/// <summary>The model accepts exactly the states the acknowledgements allow.</summary>
public sealed class DurabilityModelTests
{
    private static DurabilityModel ThreeWrites(int durableUpTo)
    {
        var model = new DurabilityModel();
        model.Begin("put a=1", [("a", "1")]);
        model.Begin("put b=2", [("b", "2")]);
        model.Begin("delete a", [("a", null)]);
        for (var i = 0; i < 3; i++)
        {
            model.Acknowledged(i, durable: i < durableUpTo);
        }

        return model;
    }

    [TestCase(0, new[] { "" }, true)]
    [TestCase(0, new[] { "a=1" }, true)]
    [TestCase(0, new[] { "a=1", "b=2" }, true)]
    [TestCase(0, new[] { "b=2" }, true)]
    [TestCase(2, new[] { "a=1", "b=2" }, true)]
    [TestCase(2, new[] { "b=2" }, true)]
    [TestCase(2, new[] { "a=1" }, false)]
    [TestCase(2, new[] { "" }, false)]
    [TestCase(3, new[] { "a=1", "b=2" }, false)]
    [TestCase(0, new[] { "a=1", "b=3" }, false)]
    [TestCase(0, new[] { "a=1", "c=1" }, false)]
    public void A_recovered_state_must_be_a_prefix_holding_every_durable_write(int durable, string[] state, bool allowed)
    {
        var model = ThreeWrites(durable);
        var rows = state.Where(s => s.Length > 0).Select(s => (s.Split('=')[0], s.Split('=')[1])).ToList();

        var problem = model.Recovered(rows);

        Assert.That(problem is null, Is.EqualTo(allowed), problem ?? "accepted");
    }

    [Test]
    public void A_missing_write_is_named_with_its_outcome()
    {
        var model = ThreeWrites(durableUpTo: 2);

        var problem = model.Recovered([("a", "1")]);

        Assert.That(problem, Does.Contain("b: expected \"2\"").And.Contain("found <absent>").And.Contain("put b=2, acknowledged durable"));
    }

    [Test]
    public void A_flush_makes_everything_before_it_durable_and_a_reopen_starts_from_what_was_recovered()
    {
        var model = ThreeWrites(durableUpTo: 0);
        model.AllDurable();
        Assert.That(model.Recovered([("a", "1"), ("b", "2")]), Is.Not.Null, "the delete was flushed");

        Assert.That(model.Issued, Is.Zero);
        Assert.That(model.Current, Is.EqualTo(new SortedDictionary<string, string> { ["a"] = "1", ["b"] = "2" }));
        model.Begin("put c=3", [("c", "3")]);
        Assert.That(model.Recovered([("a", "1"), ("b", "2")]), Is.Null, "the unacknowledged put may be lost");
        Assert.That(model.Recovered([("a", "1")]), Is.Not.Null, "nothing written since may take b away");
    }
}
