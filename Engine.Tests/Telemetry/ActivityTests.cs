using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.Telemetry;

/// <summary>An <see cref="ActivityListener"/> sees the SlateSharp spans: open, WAL upload, memtable flush, manifest update, compaction.</summary>
public sealed class ActivityTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public async Task Open_wal_upload_flush_manifest_update_and_compaction_are_spans_tagged_with_the_location()
    {
        var store = new InMemoryObjectStore();
        var path = "spans-" + Guid.NewGuid().ToString("N");
        using var spans = new SpanRecorder();
        var db = await SlateSharp.Db.OpenAsync(store, path, new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 8, Compaction = new() { Enabled = false } });
        var location = db.Location;
        for (var flush = 0; flush < 4; flush++)
        {
            for (var i = 0; i < 20; i++)
            {
                await db.PutAsync(B($"k{i:D3}"), B($"v{flush}"));
            }

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        await db.CloseAsync();
        await using (var compactor = await DbCompactor.OpenAsync(store, path, new DbOptions { RandomSeed = 9, Compaction = new() { MinSourcesPerJob = 4 } }))
        {
            Assert.That(await compactor.RunOnceAsync(), Is.True);
        }

        var mine = spans.Stopped.Where(a => Equals(a.GetTagItem(SlateSharpDiagnostics.LocationTag), location)).ToList();
        var open = mine.Single(a => a.OperationName == "slatesharp.open");
        var uploads = mine.Where(a => a.OperationName == "slatesharp.wal.upload").ToList();
        var flushes = mine.Where(a => a.OperationName == "slatesharp.memtable.flush").ToList();
        var compaction = mine.Single(a => a.OperationName == "slatesharp.compaction");
        Assert.Multiple(() =>
        {
            Assert.That(open.Status, Is.Not.EqualTo(ActivityStatusCode.Error));
            Assert.That(open.GetTagItem("slatesharp.writer_epoch"), Is.EqualTo(1UL));
            Assert.That(uploads, Has.Count.GreaterThanOrEqualTo(4));
            Assert.That(uploads.All(u => u.GetTagItem("slatesharp.wal.id") is ulong && u.GetTagItem("slatesharp.wal.bytes") is int), Is.True);
            Assert.That(uploads.All(u => u.TraceId != open.TraceId), Is.True, "background uploads start traces of their own, not under the open span");
            Assert.That(flushes, Has.Count.EqualTo(4));
            Assert.That(flushes.All(f => f.GetTagItem("slatesharp.sst.bytes") is long), Is.True);
            Assert.That(mine.Count(a => a.OperationName == "slatesharp.manifest.update" && a.ParentSpanId == flushes[0].SpanId), Is.EqualTo(1), "the flush's manifest update is its child");
            Assert.That(compaction.GetTagItem("slatesharp.compaction.sources"), Is.EqualTo(4));
            Assert.That(mine.Any(a => a.OperationName == "slatesharp.manifest.update" && a.ParentSpanId == compaction.SpanId), Is.True, "the compaction publishes under its span");
        });
    }

    [Test]
    public async Task A_fenced_writers_failed_upload_is_a_span_with_error_status()
    {
        var store = new InMemoryObjectStore();
        using var spans = new SpanRecorder();
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 10, Compaction = new() { Enabled = false } };
        var old = await SlateSharp.Db.OpenAsync(store, "fenced", options);
        await old.PutAsync(B("a"), B("1"));
        await using var newer = await SlateSharp.Db.OpenAsync(store, "fenced", options);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await old.PutAsync(B("b"), B("2")));
        Assert.That(error!.IsFenced, Is.True);
        await old.DisposeAsync();

        var failed = spans.Stopped.Where(a => a.OperationName == "slatesharp.wal.upload" && Equals(a.GetTagItem(SlateSharpDiagnostics.LocationTag), old.Location) && a.Status == ActivityStatusCode.Error).ToList();
        Assert.That(failed, Is.Not.Empty);
        Assert.That(failed[0].GetTagItem("error.type"), Is.EqualTo("Closed.Fenced"));
    }

    private sealed class SpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _stopped = new();

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == SlateSharpDiagnostics.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> Stopped => [.. _stopped];

        public void Dispose() => _listener.Dispose();
    }
}
