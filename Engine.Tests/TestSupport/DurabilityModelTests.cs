namespace SlateSharp.Tests.TestSupport;

/// <summary>The model accepts exactly the states the acknowledgements allow.</summary>
public sealed class DurabilityModelTests
{
    private static DurabilityModel ThreeWrites(int durableUpTo)
    {
        var model = new DurabilityModel();
        model.Begin("put a=1", [new ModelChange.Put("a", "1")]);
        model.Begin("put b=2", [new ModelChange.Put("b", "2")]);
        model.Begin("delete a", [new ModelChange.Delete("a")]);
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
        Assert.That(model.Current.Rows(null, null, 0), Is.EqualTo(new[] { ("a", "1"), ("b", "2") }));
        model.Begin("put c=3", [new ModelChange.Put("c", "3")]);
        Assert.That(model.Recovered([("a", "1"), ("b", "2")]), Is.Null, "the unacknowledged put may be lost");
        Assert.That(model.Recovered([("a", "1")]), Is.Not.Null, "nothing written since may take b away");
    }

    [Test]
    public void A_put_is_absent_once_its_expiry_is_at_or_before_now_and_shadows_older_values()
    {
        var state = new ModelState();
        state.Apply(new ModelChange.Put("a", "old"));
        state.Apply(new ModelChange.Put("a", "new", ExpireAt: 1000));

        Assert.That(state.Get("a", 999), Is.EqualTo("new"));
        Assert.That(state.Get("a", 1000), Is.Null, "live while expireAt > now");
        Assert.That(state.Rows(null, null, 1000), Is.Empty, "the older value does not come back");
        Assert.That(state.NextExpiryAfter(999), Is.EqualTo(1000));
        Assert.That(state.NextExpiryAfter(1000), Is.Null);
    }

    [Test]
    public void A_reopen_is_judged_at_its_clock_and_the_matching_state_keeps_its_expiries()
    {
        static DurabilityModel TwoExpiringPuts()
        {
            var model = new DurabilityModel();
            model.Begin("put a=1 until 1000", [new ModelChange.Put("a", "1", ExpireAt: 1000)]);
            model.Begin("put b=2 until 500", [new ModelChange.Put("b", "2", ExpireAt: 500)]);
            model.AllDurable();
            return model;
        }

        Assert.That(TwoExpiringPuts().Recovered([("a", "1"), ("b", "2")], now: 600), Is.Not.Null, "b had expired at the reopen");
        var model = TwoExpiringPuts();
        Assert.That(model.Recovered([("a", "1")], now: 600), Is.Null);
        Assert.That(model.Current.Get("a", 999), Is.EqualTo("1"));
        Assert.That(model.Current.Get("a", 1000), Is.Null, "the recovered a still expires");
    }

    [Test]
    public void A_failed_range_delete_or_merge_may_or_may_not_have_happened_but_durable_writes_before_it_stay()
    {
        static DurabilityModel EndingWith(ModelChange last)
        {
            var model = new DurabilityModel();
            model.Begin("put a=1", [new ModelChange.Put("a", ModelState.Counter(1))]);
            model.Begin("put b=2", [new ModelChange.Put("b", ModelState.Counter(2))]);
            model.Acknowledged(0, durable: false);
            model.Acknowledged(1, durable: true);
            model.Failed(model.Begin("the failed write", [last]), new TimeoutException("the answer was lost"));
            return model;
        }

        var (one, two, six) = (ModelState.Counter(1), ModelState.Counter(2), ModelState.Counter(6));
        var range = new ModelChange.DeleteRange("a", "b");
        var merge = new ModelChange.Merge("a", ModelState.Counter(5));
        Assert.Multiple(() =>
        {
            Assert.That(EndingWith(range).Recovered([("a", one), ("b", two)]), Is.Null, "the range delete did not happen");
            Assert.That(EndingWith(range).Recovered([("b", two)]), Is.Null, "the range delete happened (b is its exclusive end)");
            Assert.That(EndingWith(range).Recovered([("a", one)]), Is.Not.Null, "b was durable and no write removed it");
            Assert.That(EndingWith(merge).Recovered([("a", one), ("b", two)]), Is.Null, "the merge did not happen");
            Assert.That(EndingWith(merge).Recovered([("a", six), ("b", two)]), Is.Null, "the merge happened");
            Assert.That(EndingWith(merge).Recovered([("a", ModelState.Counter(5)), ("b", two)]), Is.Not.Null, "the merge lost its base");
            Assert.That(EndingWith(merge).Recovered([("a", six)]), Is.Not.Null, "b was durable");
        });
    }

    [Test]
    public void A_range_delete_hides_every_key_in_its_range_and_a_merge_adds_to_what_is_live()
    {
        var state = new ModelState();
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            state.Apply(new ModelChange.Put(key, ModelState.Counter(10)));
        }

        state.Apply(new ModelChange.DeleteRange("b", "d"));
        Assert.That(state.Rows(null, null, 0).Select(r => r.Key), Is.EqualTo(new[] { "a", "d" }), "end exclusive");

        state.Apply(new ModelChange.Merge("a", ModelState.Counter(5)));
        state.Apply(new ModelChange.Merge("b", ModelState.Counter(7)));
        state.Apply(new ModelChange.Put("e", ModelState.Counter(100), ExpireAt: 50));
        state.Apply(new ModelChange.Merge("e", ModelState.Counter(1)));
        Assert.Multiple(() =>
        {
            Assert.That(state.Get("a", 0), Is.EqualTo(ModelState.Counter(15)));
            Assert.That(state.Get("b", 0), Is.EqualTo(ModelState.Counter(7)), "over a deleted value: the operand alone");
            Assert.That(state.Get("e", 49), Is.EqualTo(ModelState.Counter(101)));
            Assert.That(state.Get("e", 50), Is.EqualTo(ModelState.Counter(1)), "over an expired value: the operand alone");
        });
    }
}
