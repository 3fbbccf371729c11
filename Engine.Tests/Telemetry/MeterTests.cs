using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.Gc;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Telemetry;

/// <summary>A <see cref="System.Diagnostics.Metrics.MeterListener"/> sees the SlateSharp instruments move with a workload, agreeing with <see cref="SlateSharp.Db.GetStats"/>.</summary>
public sealed class MeterTests
{
    private const int ValueLength = 20;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public async Task Writes_reads_wal_uploads_flushes_and_requests_are_counted_per_database()
    {
        using var recorder = new MeasurementRecorder();
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 3, Compaction = new() { Enabled = false } };
        var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "meter-" + Guid.NewGuid().ToString("N"), options);
        recorder.Location = db.Location;
        var opened = db.GetStats();
        var value = new byte[ValueLength];
        long bytes = 0;

        for (var i = 0; i < 50; i++)
        {
            await db.PutAsync(B($"k{i:D3}"), value);
            bytes += 4 + ValueLength;
        }

        for (var i = 50; i < 60; i++)
        {
            await db.PutAsync(B($"k{i:D3}"), value, WriteOptions.NoWait);
            bytes += 4 + ValueLength;
        }

        for (var i = 0; i < 5; i++)
        {
            await db.DeleteAsync(B($"k{i:D3}"));
            bytes += 4;
        }

        await db.WriteAsync(new WriteBatch().Put(B("b1"), value).Put(B("b2"), value).Put(B("b3"), value).Delete(B("k005")).Delete(B("k006")));
        bytes += 3 * (2 + ValueLength) + 2 * 4;

        for (var i = 10; i < 25; i++)
        {
            Assert.That(await db.GetAsync(B($"k{i:D3}")), Is.Not.Null);
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.That(await db.GetAsync(B($"missing{i}")), Is.Null);
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var stats = db.GetStats();
        recorder.Collect();

        Assert.Multiple(() =>
        {
            Assert.That(recorder.Sum("slatesharp.db.puts"), Is.EqualTo(63), "60 puts and 3 in the batch");
            Assert.That(recorder.Sum("slatesharp.db.deletes"), Is.EqualTo(7), "5 deletes and 2 in the batch");
            Assert.That(recorder.Sum("slatesharp.db.batches"), Is.EqualTo(1));
            Assert.That(recorder.Sum("slatesharp.db.bytes_written"), Is.EqualTo(bytes));
            Assert.That(recorder.Sum("slatesharp.db.gets", ("found", true)), Is.EqualTo(15));
            Assert.That(recorder.Sum("slatesharp.db.gets", ("found", false)), Is.EqualTo(5));
            Assert.That(recorder.Sum("slatesharp.db.bytes_read"), Is.EqualTo(15 * ValueLength));
            Assert.That(recorder.Count("slatesharp.db.durable_write.duration"), Is.EqualTo(50 + 5 + 1), "every write that waited for durability, and none that did not");
            Assert.That(recorder.Of("slatesharp.db.durable_write.duration").All(r => r.Value > 0), Is.True);

            var uploads = stats.WalObjectsWritten - opened.WalObjectsWritten;
            Assert.That(uploads, Is.GreaterThan(0));
            Assert.That(recorder.Sum("slatesharp.wal.uploads"), Is.EqualTo(uploads));
            Assert.That(recorder.Sum("slatesharp.wal.upload.bytes"), Is.EqualTo(stats.WalBytesWritten - opened.WalBytesWritten));
            Assert.That(recorder.Count("slatesharp.wal.upload.duration"), Is.EqualTo(uploads));

            Assert.That(recorder.Sum("slatesharp.memtable.flushes"), Is.EqualTo(1));
            Assert.That(recorder.Sum("slatesharp.memtable.flush.bytes"), Is.EqualTo(stats.MemtableFlushBytes - opened.MemtableFlushBytes));
            Assert.That(recorder.Count("slatesharp.memtable.flush.duration"), Is.EqualTo(1));

            Assert.That(recorder.Sum("slatesharp.store.requests", ("kind", "put")), Is.EqualTo(stats.Requests.Puts - opened.Requests.Puts));
            Assert.That(recorder.Sum("slatesharp.store.requests", ("outcome", "failed")), Is.EqualTo(stats.Requests.Failures - opened.Requests.Failures));
            Assert.That(recorder.Count("slatesharp.store.request.duration", ("kind", "put")), Is.EqualTo(stats.Requests.Puts - opened.Requests.Puts));
            Assert.That(recorder.Sum("slatesharp.store.bytes", ("direction", "up")), Is.EqualTo(stats.Requests.BytesWritten - opened.Requests.BytesWritten));

            Assert.That(recorder.Last("slatesharp.l0.ssts"), Is.EqualTo(stats.L0Ssts).And.EqualTo(1));
            Assert.That(recorder.Last("slatesharp.sorted_runs"), Is.EqualTo(0));
            Assert.That(recorder.Last("slatesharp.memtable.frozen"), Is.EqualTo(0));
            Assert.That(recorder.Last("slatesharp.db.unflushed_bytes"), Is.EqualTo(stats.UnflushedBytes));
            Assert.That(recorder.Last("slatesharp.block_cache.hits") + recorder.Last("slatesharp.block_cache.misses"), Is.EqualTo(stats.BlockCacheHits + stats.BlockCacheMisses));
        });

        await db.CloseAsync();
        recorder.Clear();
        recorder.Collect();
        Assert.That(recorder.Of("slatesharp.l0.ssts"), Is.Empty, "a closed database no longer reports gauges");
    }

    [Test]
    public async Task Every_documented_instrument_is_published_with_a_unit_and_a_description()
    {
        using var recorder = new MeasurementRecorder();
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "published", new DbOptions { RandomSeed = 4 });
        var documented = await File.ReadAllTextAsync(Path.Combine(TestDirectory.RepositoryRoot, "docs", "usage.md"));

        Assert.That(recorder.Published, Has.Count.GreaterThanOrEqualTo(25));
        Assert.Multiple(() =>
        {
            foreach (var (name, instrument) in recorder.Published)
            {
                Assert.That(instrument.Unit, Is.Not.Null.And.Not.Empty, name);
                Assert.That(instrument.Description, Is.Not.Null.And.Not.Empty, name);
                Assert.That(documented.Contains($"`{name}`", StringComparison.Ordinal), Is.True, $"{name} is documented in docs/usage.md");
            }
        });
    }

    [Test]
    public async Task A_writer_stalled_for_memory_records_how_long_it_waited()
    {
        using var recorder = new MeasurementRecorder();
        var store = new GatedObjectStore(new InMemoryObjectStore(), "stall/compacted/");
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 16 << 10,
            MaxUnflushedBytes = 64 << 10,
            RandomSeed = 5,
            Compaction = new CompactionOptions { Enabled = false },
        };
        await using var db = await SlateSharp.Db.OpenAsync(store, "stall", options);
        recorder.Location = db.Location;
        var value = new byte[512];

        // SST uploads wait at the gate, so memtables pile up until a write has to wait for memory.
        ValueTask stalled = default;
        var found = false;
        for (var i = 0; i < 10_000 && !found; i++)
        {
            stalled = db.PutAsync(B($"k{i:D5}"), value, WriteOptions.NoWait);
            found = !stalled.IsCompleted;
        }

        Assert.That(found, Is.True, "a write waited for memory while flushes were held");
        store.Open();
        await stalled;

        Assert.That(db.GetStats().WriterStalls, Is.GreaterThanOrEqualTo(1));
        Assert.That(recorder.Count("slatesharp.db.writer_stall.duration", ("reason", "memory")), Is.EqualTo(db.GetStats().WriterStalls));
        Assert.That(recorder.Of("slatesharp.db.writer_stall.duration").All(r => r.Value > 0), Is.True);
    }

    [Test]
    public async Task Compactions_and_garbage_collection_are_counted()
    {
        using var recorder = new MeasurementRecorder();
        var time = new ShiftedTimeProvider();
        var store = new InMemoryObjectStore("meter-compaction", time);
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 6, TimeProvider = time, Compaction = new() { Enabled = false } };
        var db = await SlateSharp.Db.OpenAsync(store, "c", options);
        recorder.Location = db.Location;
        for (var flush = 0; flush < 4; flush++)
        {
            for (var i = 0; i < 50; i++)
            {
                await db.PutAsync(B($"k{i:D3}"), B($"flush {flush}"));
            }

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        await db.CloseAsync();
        CompactionStats compacted;
        await using (var compactor = await DbCompactor.OpenAsync(store, "c", new DbOptions { RandomSeed = 7, TimeProvider = time, Compaction = new() { MinSourcesPerJob = 4 } }))
        {
            Assert.That(await compactor.RunOnceAsync(), Is.True, "four L0 SSTs make a job");
            compacted = compactor.Stats;
        }

        time.Advance(TimeSpan.FromDays(3));
        var report = await DbGarbageCollector.RunOnceAsync(store, "c", new GcOptions { ManifestsKept = 1 }, time);

        Assert.Multiple(() =>
        {
            Assert.That(recorder.Sum("slatesharp.compaction.jobs", ("outcome", "published")), Is.EqualTo(1));
            Assert.That(recorder.Sum("slatesharp.compaction.bytes_written"), Is.EqualTo(compacted.BytesWritten).And.GreaterThan(0));
            Assert.That(recorder.Count("slatesharp.compaction.duration"), Is.EqualTo(1));
            Assert.That(report.Ssts.Count, Is.GreaterThanOrEqualTo(4), "the compacted L0 SSTs");
            Assert.That(recorder.Sum("slatesharp.gc.deletions", ("kind", "sst")), Is.EqualTo(report.Ssts.Count));
            Assert.That(recorder.Sum("slatesharp.gc.deletions", ("kind", "wal")), Is.EqualTo(report.WalObjects.Count));
            Assert.That(recorder.Sum("slatesharp.gc.deletions", ("kind", "manifest")), Is.EqualTo(report.Manifests.Count).And.GreaterThan(0));
        });
    }
}
