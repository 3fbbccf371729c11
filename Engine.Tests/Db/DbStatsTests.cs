using System.Text;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.Db;

public sealed class DbStatsTests
{
    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public async Task Stats_follow_writes_flushes_reads_and_requests()
    {
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 1, Compaction = new() { Enabled = false } };
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", options);
        var opened = db.GetStats();

        for (var i = 0; i < 10; i++)
        {
            await db.PutAsync(B($"k{i}"), B("value"));
        }

        var afterPuts = db.GetStats();
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var afterFlush = db.GetStats();
        Assert.That(await db.GetAsync(B("k3")), Is.Not.Null);
        var afterGet = db.GetStats();

        Assert.Multiple(() =>
        {
            Assert.That(afterPuts.LastSequence, Is.EqualTo(opened.LastSequence + 10));
            Assert.That(afterPuts.DurableSequence, Is.EqualTo(afterPuts.LastSequence), "each put waited for durability");
            Assert.That(afterPuts.WalObjectsWritten, Is.InRange(opened.WalObjectsWritten + 1, opened.WalObjectsWritten + 10));
            Assert.That(afterPuts.WalBytesWritten, Is.GreaterThan(opened.WalBytesWritten));
            Assert.That(afterPuts.Requests.Puts, Is.GreaterThanOrEqualTo(opened.Requests.Puts + afterPuts.WalObjectsWritten - opened.WalObjectsWritten));
            Assert.That(afterPuts.UnflushedBytes, Is.GreaterThan(0));
            Assert.That(afterFlush.MemtableFlushes, Is.EqualTo(afterPuts.MemtableFlushes + 1));
            Assert.That(afterFlush.MemtableFlushBytes, Is.GreaterThan(afterPuts.MemtableFlushBytes));
            Assert.That(afterFlush.L0Ssts, Is.EqualTo(afterPuts.L0Ssts + 1));
            Assert.That(afterFlush.L0Bytes, Is.EqualTo(afterPuts.L0Bytes + afterFlush.MemtableFlushBytes - afterPuts.MemtableFlushBytes));
            Assert.That(afterFlush.SortedRunBytes, Is.Empty);
            Assert.That(afterFlush.ManifestId, Is.GreaterThan(afterPuts.ManifestId));
            Assert.That(afterFlush.UnflushedBytes, Is.EqualTo(0));
            Assert.That(afterGet.BlockCacheHits + afterGet.BlockCacheMisses, Is.GreaterThan(afterFlush.BlockCacheHits + afterFlush.BlockCacheMisses), "the get read a block of the L0 SST");
            Assert.That(afterGet.Requests.Total, Is.GreaterThan(0));
            Assert.That(afterGet.Compaction, Is.Null, "compaction is off");
        });
    }
}
