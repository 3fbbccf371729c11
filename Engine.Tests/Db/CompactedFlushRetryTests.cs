using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// A memtable flush whose manifest write landed but whose answer was lost, when the compactor has compacted the new
/// L0 SST away before the writer retries. Found by <see cref="FaultModelTests"/> (memory, lost-answers, direct,
/// seed=3, timing dependent: "Internal: manifest invariant violated: a range tombstone must arrive with the flush that
/// raises last_l0_sequence past it"); this states the exact interleaving. The retry used to look for the SST's id,
/// which compaction had replaced, and so put the old SST back in L0 (shadowing anything newer compacted below it).
/// It now also counts the flush landed when the manifest's last_l0_sequence reaches the memtable's last row.
/// </summary>
public sealed class CompactedFlushRetryTests
{
    private static DbOptions Options => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(5),
        RandomSeed = 5,
        Compaction = new CompactionOptions { Enabled = false },
    };

    private static DbOptions CompactorOptions => new()
    {
        RandomSeed = 6,
        Compaction = new CompactionOptions { MinSourcesPerJob = 2 },
    };

    [Test]
    public async Task A_flush_retried_after_its_sst_was_compacted_away_is_not_applied_twice()
    {
        var inner = new InMemoryObjectStore("compacted-retry");
        var store = new InterceptingObjectStore(inner);
        var db = await SlateSharp.Db.OpenAsync(store, "db", Options);
        await db.PutAsync(Bytes("a"), Bytes("1"), WriteOptions.NoWait);
        await db.PutAsync(Bytes("b"), Bytes("1"), WriteOptions.NoWait);
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        // The second memtable holds a row and a range delete, so its flush is an SST plus the range delete.
        await db.PutAsync(Bytes("c"), Bytes("2"), WriteOptions.NoWait);
        await db.DeleteRangeAsync(Bytes("a"), Bytes("b"), WriteOptions.NoWait);
        var fired = 0;
        store.OnPut = async (path, _, proceed, cancellationToken) =>
        {
            var result = await proceed();
            if (!path.Value.StartsWith("db/manifest/", StringComparison.Ordinal) || Interlocked.Increment(ref fired) != 1)
            {
                return result;
            }

            // The write landed; before the writer hears anything, the compactor merges both L0 SSTs into a sorted run.
            await using (var compactor = await DbCompactor.OpenAsync(inner, "db", CompactorOptions, cancellationToken))
            {
                var jobs = 0;
                while (jobs++ < 10 && await compactor.RunOnceAsync(cancellationToken))
                {
                }
            }

            throw InterceptingObjectStore.AnswerLost(path);
        };

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(fired, Is.GreaterThan(0), "the fault must have struck");
        Assert.That(db.Manifest.Manifest.L0, Is.Empty, "the compacted SST is not added back to L0");
        Assert.That(await db.GetAsync(Bytes("a")), Is.Null);
        Assert.That(await db.GetAsync(Bytes("b")), Is.EqualTo(Bytes("1")));
        Assert.That(await db.GetAsync(Bytes("c")), Is.EqualTo(Bytes("2")));
        await db.CloseAsync();
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
