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

    [Test]
    public void Read_pins_of_manifests_no_longer_read_are_retired_and_a_retired_manifest_read_again_is_pinned_anew()
    {
        var pins = new SstPins();
        var a = TestManifests.Handle("a");
        var first = DbManifest.Empty with { L0 = [a] };
        for (var i = 0; i < 100; i++)
        {
            using var pin = pins.AcquireRead(DbManifest.Empty with { L0 = [TestManifests.Handle($"m{i}")] });
        }

        Assert.That(pins.RegisteredManifests, Is.LessThanOrEqualTo(2), "manifests nobody reads are dropped as others are read");

        pins.AcquireRead(first).Dispose();
        pins.AcquireRead(DbManifest.Empty).Dispose();
        pins.AcquireRead(DbManifest.Empty with { L0 = [TestManifests.Handle("later")] }).Dispose(); // retires first's
        using (pins.AcquireRead(first))
        {
            Assert.That(pins.Snapshot(), Is.EquivalentTo(new[] { a.Id }), "the retired pins were replaced, not reused");
        }

        Assert.That(pins.Snapshot(), Is.Empty);
    }

    [Test]
    public void A_read_pin_that_saw_its_manifest_current_is_in_every_snapshot_while_it_is_held()
    {
        // Readers pin the current manifest and check it is still current (as ReadPath does), and every few reads one
        // of them replaces it; each reader, while it holds its pin, takes a snapshot and must find its SSTs there.
        // Pins are entered, registered and retired concurrently (without a lock on the fast path).
        const int seed = 20261202;
        var pins = new SstPins();
        var manifests = Enumerable.Range(0, 16).Select(i => DbManifest.Empty with { L0 = [TestManifests.Handle($"m{i}")] }).ToArray();
        var current = manifests[0];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var readers = Enumerable.Range(0, 3).Select(reader => Task.Run(() =>
        {
            var random = new Random(seed + reader);
            for (var i = 0; i < 20_000; i++)
            {
                if (random.Next(4) == 0)
                {
                    Volatile.Write(ref current, manifests[random.Next(manifests.Length)]);
                }

                var manifest = Volatile.Read(ref current);
                var pin = pins.AcquireRead(manifest);
                if (ReferenceEquals(Volatile.Read(ref current), manifest) && !pins.Snapshot().Contains(manifest.L0[0].Id))
                {
                    failures.Enqueue($"reader {reader}, read {i}: {manifest.L0[0].Id} held but not in the snapshot");
                }

                pin.Dispose();
            }
        })).ToArray();
        Task.WaitAll(readers);

        Assert.That(failures, Is.Empty, $"seed {seed}");
        Assert.That(pins.Snapshot(), Is.Empty, "every pin was released");
    }
}
