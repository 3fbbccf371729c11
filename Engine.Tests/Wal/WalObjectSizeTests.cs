using System.Text;
using SlateSharp.Format;
using SlateSharp.Storage.InMemory;
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
}
