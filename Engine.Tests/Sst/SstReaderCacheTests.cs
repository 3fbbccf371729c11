using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>The open-SST cache holds index and filter memory within its budget however many SSTs there are.</summary>
public sealed class SstReaderCacheTests
{
    [Test]
    public async Task Readers_beyond_the_budget_are_dropped_and_reopened_on_demand_with_correct_reads()
    {
        const int ssts = 24;
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 16 << 10,
            L0MaxSsts = 1000,
            SstReaderCacheBytes = 8 << 10,
            RandomSeed = 5,

            // Many L0 SSTs are the point here: no compaction.
            Compaction = new CompactionOptions { Enabled = false },
        };
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", options);
        for (var sst = 0; sst < ssts; sst++)
        {
            for (var row = 0; row < 50; row++)
            {
                await db.PutAsync(Encoding.UTF8.GetBytes($"s{sst:D2}-r{row:D2}"), Encoding.UTF8.GetBytes($"value {sst}/{row}"), WriteOptions.NoWait);
            }

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        Assert.That(db.Manifest.Manifest.L0, Has.Count.EqualTo(ssts));
        long largest = 0;
        for (var pass = 0; pass < 2; pass++)
        {
            for (var sst = 0; sst < ssts; sst++)
            {
                var got = await db.GetAsync(Encoding.UTF8.GetBytes($"s{sst:D2}-r07"));
                Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo($"value {sst}/7"));
                largest = Math.Max(largest, (await db.Readers.GetAsync(db.Manifest.Manifest.L0[0].Id, CancellationToken.None)).MemorySize);
                Assert.That(db.Readers.ChargedBytes, Is.LessThanOrEqualTo(options.SstReaderCacheBytes + largest), "held reader memory stays within the budget (plus the reader just opened)");
            }
        }

        Assert.That(db.Readers.Count, Is.LessThan(ssts), "readers were dropped");
    }

    [Test]
    public async Task Forgotten_readers_do_not_pile_up_in_the_eviction_clock()
    {
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromHours(1),
            MemtableSizeBytes = 16 << 10,
            RandomSeed = 7,
            Compaction = new CompactionOptions { Enabled = false },
        };
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", options);
        for (var sst = 0; sst < 8; sst++)
        {
            await db.PutAsync(Encoding.UTF8.GetBytes($"s{sst:D2}"), Encoding.UTF8.GetBytes($"value {sst}"), WriteOptions.NoWait);
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        var ids = db.Manifest.Manifest.L0.Select(s => s.Id).ToArray();
        for (var round = 0; round < 50; round++)
        {
            foreach (var id in ids)
            {
                var reader = await db.Readers.GetAsync(id, CancellationToken.None);
                Assert.That(reader.MemorySize, Is.GreaterThan(0));
            }

            Assert.That(db.Readers.Count, Is.EqualTo(ids.Length), "every reader is held until forgotten");
            db.Readers.Forget(ids);
            Assert.That(db.Readers.Count, Is.Zero, "forgotten readers leave the map");
        }

        Assert.That(db.Readers.ClockLength, Is.LessThanOrEqualTo(2 * ids.Length), "the clock sheds forgotten readers instead of growing with every reopen");
        Assert.That(await db.GetAsync(Encoding.UTF8.GetBytes("s03")), Is.EqualTo(Encoding.UTF8.GetBytes("value 3")));
    }

    [Test]
    public async Task Readers_of_ssts_compacted_away_are_dropped_when_the_view_moves_on()
    {
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 16 << 10,
            RandomSeed = 6,
            Compaction = new CompactionOptions { MinSourcesPerJob = 4, PollInterval = TimeSpan.FromMilliseconds(20) },
        };
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", options);
        for (var sst = 0; sst < 4; sst++)
        {
            for (var row = 0; row < 50; row++)
            {
                await db.PutAsync(Encoding.UTF8.GetBytes($"s{sst:D2}-r{row:D2}"), Encoding.UTF8.GetBytes($"value {sst}/{row}"), WriteOptions.NoWait);
            }

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

            // Opens this SST's reader, as any read of it would.
            Assert.That(await db.GetAsync(Encoding.UTF8.GetBytes($"s{sst:D2}-r07")), Is.Not.Null);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (db.Manifest.Manifest.L0.Count > 0 || db.Manifest.Manifest.SortedRuns.Count == 0)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "compaction merged the four L0 SSTs");
            await Task.Delay(20);
        }

        // Wait for the writer's view, not only the manifest, to hold the compaction.
        while (db.GetStats().L0Ssts > 0)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the view moved to the compacted manifest");
            await Task.Delay(20);
        }

        var live = db.Manifest.Manifest.SortedRuns.Sum(r => r.Ssts.Count);
        Assert.That(db.Readers.Count, Is.LessThanOrEqualTo(live), "no reader of an SST the manifest dropped is held");
        Assert.That(await db.GetAsync(Encoding.UTF8.GetBytes("s02-r07")), Is.EqualTo(Encoding.UTF8.GetBytes("value 2/7")));
    }

    [Test]
    public async Task A_reader_drops_the_readers_of_ssts_compacted_away_when_it_moves_to_the_new_manifest()
    {
        var store = new InMemoryObjectStore();
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromHours(1),
            MemtableSizeBytes = 16 << 10,
            RandomSeed = 8,
            Compaction = new CompactionOptions { Enabled = false },
        };
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        for (var sst = 0; sst < 4; sst++)
        {
            await db.PutAsync(Encoding.UTF8.GetBytes($"s{sst:D2}"), Encoding.UTF8.GetBytes($"value {sst}"), WriteOptions.NoWait);
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        await using var reader = await DbReader.OpenAsync(store, "db", new DbReaderOptions { PollInterval = TimeSpan.FromHours(1) });
        for (var sst = 0; sst < 4; sst++)
        {
            Assert.That(await reader.GetAsync(Encoding.UTF8.GetBytes($"s{sst:D2}")), Is.Not.Null, "opens this SST's reader");
        }

        Assert.That(reader.Readers.Count, Is.EqualTo(4));
        await using (var compactor = await DbCompactor.OpenAsync(store, "db", new DbOptions { RandomSeed = 9, Compaction = new CompactionOptions { MinSourcesPerJob = 4 } }))
        {
            Assert.That(await compactor.RunOnceAsync(), Is.True, "one job merged the four L0 SSTs");
            Assert.That(compactor.Readers.Count, Is.Zero, "the compactor dropped its inputs' readers once the job was published");
        }

        await reader.RefreshAsync(CancellationToken.None);

        Assert.That(reader.Readers.Count, Is.Zero, "the four merged SSTs' readers are gone; the new run's opens on demand");
        Assert.That(await reader.GetAsync(Encoding.UTF8.GetBytes("s02")), Is.EqualTo(Encoding.UTF8.GetBytes("value 2")));
    }

    [Test]
    public async Task A_compaction_reads_its_inputs_without_filling_the_cache()
    {
        var inner = new InMemoryObjectStore();
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromHours(1),
            MemtableSizeBytes = 64 << 10,
            RandomSeed = 10,
            Compaction = new CompactionOptions { Enabled = false },
        };
        await using (var db = await SlateSharp.Db.OpenAsync(inner, "db", options))
        {
            for (var sst = 0; sst < 4; sst++)
            {
                for (var row = 0; row < 400; row++)
                {
                    await db.PutAsync(Encoding.UTF8.GetBytes($"k{row:D4}-{sst}"), Encoding.UTF8.GetBytes($"value {sst}/{row} {new string('x', 40)}"), WriteOptions.NoWait);
                }

                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            }
        }

        var store = new InterceptingObjectStore(inner);
        var compactorOptions = new DbOptions
        {
            RandomSeed = 11,
            Compaction = new CompactionOptions { MinSourcesPerJob = 4, MaxSubcompactions = 2, TargetSstBytes = 8 << 10 },
        };
        await using (var compactor = await DbCompactor.OpenAsync(store, "db", compactorOptions))
        {
            var heldAtOutputPuts = new List<int>();
            store.OnPut = (path, _, proceed, _) =>
            {
                if (path.ToString().Contains("compacted/", StringComparison.Ordinal))
                {
                    lock (heldAtOutputPuts)
                    {
                        heldAtOutputPuts.Add(compactor.Readers.Count);
                    }
                }

                return proceed();
            };

            Assert.That(await compactor.RunOnceAsync(), Is.True, "one job merged the four L0 SSTs");
            Assert.That(heldAtOutputPuts, Has.Count.GreaterThan(1), "the job wrote several outputs over two ranges");
            Assert.That(heldAtOutputPuts, Is.All.Zero, "no input's reader was cached while the job ran");
            Assert.That(compactor.Readers.PassOpens, Is.EqualTo(4), "each L0 input was opened once for the job alone, shared by the split and both ranges");
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(inner, "db", options);
        Assert.That(reopened.Manifest.Manifest.L0, Is.Empty);
        for (var sst = 0; sst < 4; sst++)
        {
            var got = await reopened.GetAsync(Encoding.UTF8.GetBytes($"k0123-{sst}"));
            Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo($"value {sst}/123 {new string('x', 40)}"));
        }
    }
}
