using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compaction;

/// <summary>
/// An embedded compactor that stops for good (a corrupt input, a bug) leaves nothing to drain L0: once L0 is full
/// the database stops with that cause instead of stalling every flush and write forever.
/// </summary>
public sealed class EmbeddedCompactorFailureTests
{
    [Test]
    public async Task A_full_l0_with_a_stopped_compactor_stops_the_database_with_the_cause_and_loses_nothing_acknowledged()
    {
        var inner = new InMemoryObjectStore();
        var store = new InterceptingObjectStore(inner);
        ObjectPath? corrupted = null;

        // Every SST read fails as corrupt: only the compactor reads SSTs here (the test does no gets).
        store.OnGet = (path, proceed, _) =>
        {
            if (path.ToString().Contains("compacted/", StringComparison.Ordinal))
            {
                corrupted = path;
                throw Errors.Data(path.ToString(), "injected corrupt block");
            }

            return proceed();
        };
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 16 << 10,
            L0MaxSsts = 2,
            RandomSeed = 12,
            Compaction = new CompactionOptions { MinSourcesPerJob = 2, PollInterval = TimeSpan.FromMilliseconds(20) },
        };

        var written = new List<int>();
        var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        SlateSharpException? stopped = null;
        for (var memtable = 0; memtable < 4 && stopped is null; memtable++)
        {
            for (var row = 0; row < 20; row++)
            {
                var n = memtable * 100 + row;
                await db.PutAsync(Key(n), Value(n)); // durable: acknowledged means in the WAL
                written.Add(n);
            }

            try
            {
                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            }
            catch (SlateSharpException e)
            {
                stopped = e;
            }
        }

        Assert.That(stopped, Is.Not.Null, "the third flush found l0 full and the compactor stopped");
        Assert.That(stopped!.Kind, Is.EqualTo(ErrorKind.Closed));
        Assert.That(stopped.CloseReason, Is.EqualTo(CloseReason.Failed));
        Assert.That(stopped.ToString(), Does.Contain("compactor").And.Contain("injected corrupt block").And.Contain(corrupted!.ToString()));
        Assert.That(db.Completion.IsFaulted, Is.True, "the database says it stopped");
        var put = Assert.ThrowsAsync<SlateSharpException>(async () => await db.PutAsync(Key(999), Value(999)));
        Assert.That(put!.Kind, Is.EqualTo(ErrorKind.Closed), "later writes are refused, not left waiting");
        await db.DisposeAsync();

        // Every write that was acknowledged before the stop is found again (from SSTs or the WAL).
        await using var reopened = await SlateSharp.Db.OpenAsync(inner, "db", new DbOptions { RandomSeed = 13, Compaction = new CompactionOptions { Enabled = false } });
        foreach (var n in written)
        {
            Assert.That(await reopened.GetAsync(Key(n)), Is.EqualTo(Value(n)), $"row {n}");
        }
    }

    private static byte[] Key(int n) => Encoding.UTF8.GetBytes($"key-{n:D4}");

    private static byte[] Value(int n) => Encoding.UTF8.GetBytes($"value {n} {new string('v', 600)}");
}
