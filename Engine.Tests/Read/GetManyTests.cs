using System.Text;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Read;

/// <summary>GetMany answers in the keys' order at one snapshot, and reads each needed SST block once per call.</summary>
public sealed class GetManyTests
{
    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key-{i:D4}");

    [Test]
    public async Task Values_come_back_in_the_keys_order_with_duplicates_and_nulls()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "many", new DbOptions { RandomSeed = 3, BlockSizeBytes = 256 });
        for (var i = 0; i < 100; i++)
        {
            await db.PutAsync(Key(i), Encoding.ASCII.GetBytes($"old-{i}"), WriteOptions.NoWait);
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.PutAsync(Key(5), "new-5"u8.ToArray(), WriteOptions.NoWait);
        await db.DeleteAsync(Key(7), WriteOptions.NoWait);

        ReadOnlyMemory<byte>[] keys = [Key(50), Key(5), Key(7), "absent"u8.ToArray(), Key(50), Key(99), Key(0), Key(5)];
        var values = await db.GetManyAsync(keys);
        Assert.That(values.Select(v => v is null ? null : Encoding.ASCII.GetString(v)),
            Is.EqualTo(new[] { "old-50", "new-5", null, null, "old-50", "old-99", "old-0", "new-5" }));
        Assert.That(await db.GetManyAsync([]), Is.Empty);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await db.GetManyAsync([Key(1), ReadOnlyMemory<byte>.Empty]));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid), "keys are validated like GetAsync's");
    }

    [Test]
    public async Task Keys_in_one_block_cost_one_block_read_even_with_a_cold_cache()
    {
        var counting = new CountingObjectStore(new InMemoryObjectStore());
        await using var db = await SlateSharp.Db.OpenAsync(counting, "", new DbOptions { RandomSeed = 4, BlockSizeBytes = 512, BlockCacheBytes = 0 });
        for (var i = 0; i < 400; i++)
        {
            await db.PutAsync(Key(i), new byte[20], WriteOptions.NoWait);
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var sst = db.ViewManifest.L0.Single();
        var reader = await SstReader.OpenAsync(counting, SstPaths.PathOf(sst.Id), null);
        Assert.That(reader.Index.Count, Is.GreaterThan(10));

        // Five keys of one block, each asked for twice.
        var block = reader.Index.FindBlock(Key(200));
        var sameBlock = Enumerable.Range(0, 400).Where(i => reader.Index.FindBlock(Key(i)) == block).Take(5).ToList();
        Assert.That(sameBlock, Has.Count.EqualTo(5));
        await ExpectBlockReadsAsync(db, counting, [.. sameBlock, .. sameBlock], expected: 1);

        // Keys spread over the SST, with repeats: one read per distinct block, however many keys fall in it.
        var random = new Random(TestSeeds.Get(501));
        var spread = Enumerable.Range(0, 60).Select(_ => random.Next(400)).ToList();
        var distinct = spread.Select(i => reader.Index.FindBlock(Key(i))).Distinct().Count();
        Assert.That(distinct, Is.LessThan(spread.Count));
        await ExpectBlockReadsAsync(db, counting, spread, distinct);
    }

    private static async Task ExpectBlockReadsAsync(SlateSharp.Db db, CountingObjectStore counting, List<int> keys, int expected)
    {
        counting.Reset();
        var values = await db.GetManyAsync(keys.Select(i => (ReadOnlyMemory<byte>)Key(i)).ToList());
        Assert.That(values, Has.All.Not.Null);
        List<(ObjectPath Path, ByteRange Range)> requests;
        lock (counting.Requests)
        {
            requests = [.. counting.Requests];
        }

        var blockReads = requests.Where(r => r.Path.Value.StartsWith(SstPaths.Prefix, StringComparison.Ordinal) && !r.Range.IsSuffix).ToList();
        Assert.That(blockReads, Has.Count.EqualTo(expected), string.Join(", ", blockReads.Select(r => r.Range)));
        Assert.That(blockReads.Select(r => r.Range).Distinct().Count(), Is.EqualTo(blockReads.Count), "no block read twice");
    }
}
