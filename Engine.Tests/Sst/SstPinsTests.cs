using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>Read pins of a whole manifest (<see cref="SstPins.AcquireRead"/>) beside the per-SST pins.</summary>
public sealed class SstPinsTests
{
    [Test]
    public void A_read_pin_holds_every_sst_of_its_manifest_until_the_last_read_releases_it()
    {
        var pins = new SstPins();
        var a = TestManifests.Handle("a");
        var b = TestManifests.Handle("b");
        var manifest = DbManifest.Empty with { L0 = [a], SortedRuns = [new SortedRun(1, [b])] };
        var other = DbManifest.Empty with { L0 = [a] }; // equal contents elsewhere must not share the count

        var first = pins.AcquireRead(manifest);
        var second = pins.AcquireRead(manifest);
        var third = pins.AcquireRead(other);
        Assert.That(pins.Snapshot(), Is.EquivalentTo(new[] { a.Id, b.Id }));

        first.Dispose();
        third.Dispose();
        Assert.That(pins.Snapshot(), Is.EquivalentTo(new[] { a.Id, b.Id }), "one read still holds the manifest");

        second.Dispose();
        Assert.That(pins.Snapshot(), Is.Empty);

        using var held = pins.Acquire([b.Id]);
        using (pins.AcquireRead(manifest))
        {
            Assert.That(pins.Count, Is.EqualTo(2));
        }

        Assert.That(pins.Snapshot(), Is.EquivalentTo(new[] { b.Id }), "the per-SST pin is counted on its own");
    }
}
