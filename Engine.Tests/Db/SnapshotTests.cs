using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// <see cref="SlateSharp.Db.GetSnapshotAsync"/>: a snapshot sees one point in time while writes, flushes, compaction
/// and aggressive in-process garbage collection go on, checked against copies of a model taken with each snapshot.
/// </summary>
public sealed class SnapshotTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    // Everything young is collectable except manifests: a ManifestMinAge shorter than the time a writer or compactor
    // holds a manifest lets one of them recreate a deleted version and fork the chain (docs/design/gc-and-readers.md).
    private static readonly GcOptions Aggressive = new()
    {
        SstMinAge = TimeSpan.FromMilliseconds(1),
        ManifestMinAge = TimeSpan.FromHours(1),
        WalMinAge = TimeSpan.FromMilliseconds(1),
        FenceMinAge = TimeSpan.FromMilliseconds(1),
        ManifestsKept = 1,
    };

    [Test]
    public async Task Snapshots_see_their_point_in_time_through_writes_flushes_compaction_and_gc()
    {
        var seed = TestSeeds.Get(40);
        var random = new Random(seed);
        var store = new InMemoryObjectStore();
        var options = new DbOptions
        {
            RandomSeed = seed,
            FlushInterval = TimeSpan.FromMilliseconds(5),
            ManifestPollInterval = TimeSpan.FromMilliseconds(10),
            Compaction = new() { Enabled = false },
            L0MaxSsts = 1000,
        };
        await using var db = await SlateSharp.Db.OpenAsync(store, "snap", options);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var taken = new List<(DbSnapshot Snapshot, SortedDictionary<string, string> Seen)>();

        for (var step = 0; step < 1500; step++)
        {
            var key = $"k{random.Next(150):D3}";
            if (random.Next(5) == 0)
            {
                await db.DeleteAsync(B(key), WriteOptions.NoWait);
                model.Remove(key);
            }
            else
            {
                var value = $"step {step}";
                await db.PutAsync(B(key), B(value), WriteOptions.NoWait);
                model[key] = value;
            }

            switch (random.Next(100))
            {
                case < 3:
                    taken.Add((await db.GetSnapshotAsync(), new SortedDictionary<string, string>(model, StringComparer.Ordinal)));
                    break;
                case < 6:
                    await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
                    break;
                case 6:
                    await using (var compactor = await DbCompactor.OpenAsync(store, "snap", new DbOptions { RandomSeed = step, Compaction = new() { MinSourcesPerJob = 2 } }))
                    {
                        while (await compactor.RunOnceAsync())
                        {
                        }
                    }

                    break;
                case 7:
                    await db.RunGarbageCollectionAsync(Aggressive);
                    break;
            }
        }

        Assert.That(taken, Has.Count.GreaterThan(5), $"seed {seed}");
        Assert.That(db.OpenSnapshots, Is.EqualTo(taken.Count));
        foreach (var (snapshot, seen) in taken)
        {
            await AssertSeesAsync(snapshot, seen, seed);
        }

        // Disposed snapshots let go: their reads fail, and collection may then delete what only they held.
        foreach (var (snapshot, _) in taken)
        {
            await snapshot.DisposeAsync();
        }

        Assert.That(db.OpenSnapshots, Is.EqualTo(0));
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await taken[0].Snapshot.GetAsync(B("k000")));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Closed));
        await db.RunGarbageCollectionAsync(Aggressive);
        foreach (var (key, value) in model)
        {
            Assert.That(Encoding.UTF8.GetString((await db.GetAsync(B(key)))!), Is.EqualTo(value), $"seed {seed}");
        }
    }

    [Test]
    public async Task A_snapshot_of_a_closed_database_fails_with_Closed()
    {
        var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "snap", new DbOptions { RandomSeed = 41 });
        await db.PutAsync(B("k"), B("v"));
        var snapshot = await db.GetSnapshotAsync();
        await db.PutAsync(B("k"), B("newer"));
        Assert.That(await snapshot.GetAsync(B("k")), Is.EqualTo(B("v")));
        Assert.That(snapshot.Sequence, Is.LessThan(db.GetStats().LastSequence));
        await db.CloseAsync();
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await snapshot.GetAsync(B("k")));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Closed));
        await snapshot.DisposeAsync();
    }

    private static async Task AssertSeesAsync(DbSnapshot snapshot, SortedDictionary<string, string> seen, int seed)
    {
        for (var k = 0; k < 150; k++)
        {
            var key = $"k{k:D3}";
            var got = await snapshot.GetAsync(B(key));
            Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo(seen.GetValueOrDefault(key)), $"seed {seed}, snapshot {snapshot.Sequence}, key {key}");
        }

        var scanned = new List<KeyValuePair<string, string>>();
        await foreach (var row in snapshot.ScanAsync(KeyRange.All))
        {
            scanned.Add(new(row.KeyString(), row.ValueString()));
        }

        Assert.That(scanned, Is.EqualTo(seen.ToList()), $"seed {seed}, snapshot {snapshot.Sequence}: scan");
    }
}
