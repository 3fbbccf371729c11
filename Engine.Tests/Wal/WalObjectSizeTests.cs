using System.Text;
using SlateSharp.Format;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Wal;

/// <summary>
/// A WAL object stays within <see cref="DbOptions.WalObjectMaxBytes"/>: a batch that would take the open object past
/// it starts the next one, and only a batch larger than the limit by itself gets a larger object, of its own.
/// </summary>
public sealed class WalObjectSizeTests
{
    private const int MaxBytes = 8 << 10;

    [Test]
    public async Task Objects_stay_within_the_limit_and_an_oversized_batch_gets_an_object_of_its_own([Values(11, 12)] int seed)
    {
        var store = new InMemoryObjectStore();
        var options = new DbOptions
        {
            WalObjectMaxBytes = MaxBytes,
            FlushInterval = TimeSpan.FromHours(1),
            RandomSeed = seed,
            Compaction = new CompactionOptions { Enabled = false },
        };
        var random = new Random(seed);
        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", options))
        {
            for (var i = 0; i < 400; i++)
            {
                var value = new byte[random.Next(1, 700)];
                random.NextBytes(value);
                await db.PutAsync(Encoding.UTF8.GetBytes($"key-{i:D5}"), value, WriteOptions.NoWait);
            }

            var big = new WriteBatch();
            for (var i = 0; i < 30; i++)
            {
                big.Put(Encoding.UTF8.GetBytes($"big-{i:D3}"), new byte[500]);
            }

            await db.WriteAsync(big, WriteOptions.NoWait);
            await db.PutAsync(Encoding.UTF8.GetBytes("after"), new byte[10], WriteOptions.NoWait);
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Wal });
        }

        var objects = new List<(string Path, long Size, int Batches)>();
        await foreach (var meta in store.ListAsync("db/" + WalPaths.Prefix))
        {
            var got = await store.GetAsync(meta.Path, SlateSharp.Storage.ByteRange.All);
            var wal = WalObjectCodec.Decode(got!.Data, meta.Path.Value, zeroByteIsFence: true);
            if (wal.Batches.Count > 0)
            {
                objects.Add((meta.Path.Value, meta.Size, wal.Batches.Count));
            }
        }

        Assert.That(objects, Has.Count.GreaterThan(5), $"the writes spanned several objects (seed {seed})");
        var oversized = objects.Where(o => o.Size > MaxBytes).ToList();
        Assert.That(oversized, Has.Count.EqualTo(1), $"only the 15 KB batch's object exceeds the limit: {string.Join(", ", objects.Select(o => $"{o.Path}={o.Size}"))} (seed {seed})");
        Assert.That(oversized[0].Batches, Is.EqualTo(1), "the oversized batch is alone in its object");
        // Full objects: the upload loop, woken by an object that filled up, leaves the next one filling. Only the
        // object cut by the oversized batch and the last one (the flush) may hold less than the limit minus one put.
        var cutShort = objects.Where(o => o.Size <= MaxBytes - 1024).Select(o => $"{o.Path}={o.Size}").ToList();
        Assert.That(cutShort, Has.Count.LessThanOrEqualTo(2), $"objects cut short: {string.Join(", ", cutShort)} (seed {seed})");
    }

    [TestCase("local", 1 << 20)]
    [TestCase("memory", 4 << 20)]
    public async Task By_default_objects_hold_up_to_1_MiB_on_the_local_store_and_4_MiB_on_an_object_store(string kind, int limit)
    {
        using var directory = new TestDirectory();
        IObjectStore store = kind == "local" ? LocalFileSystemObjectStore.Open(directory.Path) : new InMemoryObjectStore();
        await using (store)
        {
            var options = new DbOptions { FlushInterval = TimeSpan.FromHours(1), Compaction = new CompactionOptions { Enabled = false } };
            await using (var db = await SlateSharp.Db.OpenAsync(store, "db", options))
            {
                // 12 MiB of 1 KiB rows, acknowledged from the memtable: objects fill to the limit, not to the interval.
                var value = new byte[1024];
                for (var i = 0; i < 12 * 1024; i++)
                {
                    await db.PutAsync(Encoding.UTF8.GetBytes($"key-{i:D6}"), value, WriteOptions.NoWait);
                }

                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Wal });
            }

            var sizes = new List<long>();
            await foreach (var meta in store.ListAsync("db/" + WalPaths.Prefix))
            {
                sizes.Add(meta.Size);
            }

            Assert.That(sizes.Max(), Is.LessThanOrEqualTo(limit), $"{kind}: {string.Join(", ", sizes)}");
            Assert.That(sizes.Max(), Is.GreaterThan(limit - (64 << 10)), $"{kind}: objects fill to the limit: {string.Join(", ", sizes)}");
        }
    }
}
