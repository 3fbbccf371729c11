using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.Gc;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compaction;

/// <summary>
/// A database run for many lives (overwrites, deletes, compaction, GC between lives) does not grow with its history:
/// the stored bytes stay within a small factor of the live data, and opening it costs the same requests in the last
/// life as in the second.
/// </summary>
public sealed class HistoryTests
{
    private const int Keys = 300;

    [Test]
    public async Task Stored_bytes_and_open_cost_stay_flat_however_long_the_history()
    {
        var seed = TestSeeds.Get(71);
        var random = new Random(seed);
        var memory = new InMemoryObjectStore();
        var options = CompactorTests.Options(seed, embedded: true);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var clock = new ShiftedTimeProvider();
        var gc = new GcOptions { ManifestsKept = 2 };
        var openRequests = new List<int>();
        var storedBytes = new List<long>();
        for (var life = 0; life < 8; life++)
        {
            var counting = new CountingObjectStore(memory);
            var db = await SlateSharp.Db.OpenAsync(counting, "db", options);
            openRequests.Add(counting.Total);
            await CompactorTests.WriteAsync(db, model, random, 2500);
            await db.CloseAsync();

            // Let compaction finish what is due, then age everything past the GC's minimum ages and collect.
            await using (var compactor = await DbCompactor.OpenAsync(memory, "db", options))
            {
                while (await compactor.RunOnceAsync())
                {
                }
            }

            clock.Advance(TimeSpan.FromDays(2));
            await DbGarbageCollector.RunOnceAsync(memory, "db", gc, clock);
            storedBytes.Add(await SizeAsync(memory, "db/compacted/"));
        }

        var live = model.Sum(kv => kv.Key.Length + kv.Value.Length);
        TestContext.Out.WriteLine($"seed={seed}: open requests per life {string.Join(", ", openRequests)}; sst bytes after gc {string.Join(", ", storedBytes)}; live {live} bytes");
        Assert.That(storedBytes[^1], Is.LessThan(3 * live + (64 << 10)), "after overwrites, deletes, compaction and gc the ssts hold a small multiple of the live data");
        Assert.That(storedBytes[^1], Is.LessThan(storedBytes.Take(storedBytes.Count - 1).Max() * 2), "the stored bytes do not grow with the lives");
        Assert.That(openRequests[^1], Is.LessThanOrEqualTo(openRequests[1] + 4), "opening costs what it cost early on: wal and manifests are collected");
        Assert.That(await SizeAsync(memory, "db/wal/", count: true), Is.LessThan(20), "collected wal objects do not pile up");

        await using var reopened = await SlateSharp.Db.OpenAsync(memory, "db", options);
        await CompactorTests.AssertMatchesAsync(reopened, model);
    }

    private static async Task<long> SizeAsync(IObjectStore store, string prefix, bool count = false)
    {
        long total = 0;
        await foreach (var item in store.ListAsync(prefix))
        {
            total += count ? 1 : item.Size;
        }

        return total;
    }
}
