using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Decorators;

public sealed class InstrumentedObjectStoreTests
{
    [Test]
    public async Task Counts_requests_by_kind_bytes_failures_and_latency()
    {
        var time = new ManualTimeProvider();
        var memory = new InMemoryObjectStore("instrumented");
        var faults = new FaultInjectingObjectStore(memory)
        {
            Plan = (op, call) =>
            {
                time.Advance(TimeSpan.FromMilliseconds(op == "get" ? 40 : 3));
                return op == "delete" && call == 2 ? Fault.Transient() : null;
            },
        };
        var metrics = new ObjectStoreMetrics();
        var store = new InstrumentedObjectStore(faults, metrics, time);
        var a = ObjectPath.Parse("a");

        await store.PutAsync(a, new byte[1000], PutMode.Overwrite);
        await store.PutAsync(ObjectPath.Parse("b"), new PatternStream(5000, 3), PutMode.CreateIfAbsent);
        await store.GetAsync(a, ByteRange.FromOffset(10, 100));
        await store.GetAsync(a, ByteRange.All);
        await store.HeadAsync(a);
        await foreach (var _ in store.ListAsync(string.Empty))
        {
        }

        await store.DeleteAsync(a);
        Assert.ThrowsAsync<SlateSharpException>(async () => await store.DeleteAsync(a));

        Assert.That(metrics.Requests(RequestKind.Put), Is.EqualTo(2));
        Assert.That(metrics.Requests(RequestKind.Get), Is.EqualTo(2));
        Assert.That(metrics.Requests(RequestKind.Head), Is.EqualTo(1));
        Assert.That(metrics.Requests(RequestKind.List), Is.EqualTo(1));
        Assert.That(metrics.Requests(RequestKind.Delete), Is.EqualTo(2));
        Assert.That(metrics.Failures(RequestKind.Delete), Is.EqualTo(1));
        Assert.That(metrics.TotalRequests, Is.EqualTo(8));
        Assert.That(metrics.BytesUp, Is.EqualTo(6000));
        Assert.That(metrics.BytesDown, Is.EqualTo(1100));
        Assert.That(metrics.LatencyAtMost(RequestKind.Get, 0.5), Is.EqualTo(TimeSpan.FromMilliseconds(64)), "40 ms falls in the [32, 64) bucket");
        Assert.That(metrics.LatencyAtMost(RequestKind.Put, 0.99), Is.EqualTo(TimeSpan.FromMilliseconds(4)));
        Assert.That(metrics.ToString(), Does.Contain("GET: 2 requests, 0 failed"));
    }

    [Test]
    public async Task A_read_into_a_buffer_counts_as_one_get_and_reads_in_place_only_when_the_store_below_does()
    {
        var memory = new InMemoryObjectStore("instrumented-into");
        var metrics = new ObjectStoreMetrics();
        var store = new InstrumentedObjectStore(memory, metrics, new ManualTimeProvider());
        var a = ObjectPath.Parse("a");
        await store.PutAsync(a, new byte[1000], PutMode.Overwrite);

        var got = await ReadsInto.GetIntoAsync(store, a, 900, new byte[300]);

        Assert.That(got!.Data.Length, Is.EqualTo(100));
        Assert.That((metrics.Requests(RequestKind.Get), metrics.BytesDown), Is.EqualTo((1L, 100L)));
        Assert.That(ReadsInto.ReadsInPlace(store), Is.True);
        Assert.That(ReadsInto.ReadsInPlace(new InstrumentedObjectStore(new FaultInjectingObjectStore(memory), metrics, new ManualTimeProvider())), Is.False);
    }

    [Test]
    public async Task A_listing_the_caller_stops_early_is_not_a_failure_and_a_failing_one_is()
    {
        var memory = new InMemoryObjectStore("instrumented-list");
        await memory.PutAsync(ObjectPath.Parse("a"), new byte[1], PutMode.Overwrite);
        await memory.PutAsync(ObjectPath.Parse("b"), new byte[1], PutMode.Overwrite);
        var faults = new FaultInjectingObjectStore(memory) { ListFaultAfterItems = 1, Plan = (_, call) => call == 2 ? Fault.Transient() : null };
        var metrics = new ObjectStoreMetrics();
        var store = new InstrumentedObjectStore(faults, metrics, new ManualTimeProvider());

        await foreach (var _ in store.ListAsync(string.Empty))
        {
            break;
        }

        Assert.ThrowsAsync<SlateSharpException>(async () => await store.ListAsync(string.Empty).CountAsync());

        Assert.That(metrics.Requests(RequestKind.List), Is.EqualTo(2));
        Assert.That(metrics.Failures(RequestKind.List), Is.EqualTo(1));
    }
}
