using System.Buffers.Binary;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// The field bug: right after a large prefill, a memtable flush and a WAL flush must both succeed (no spurious
/// "fenced"), and every key must read back. A million 16-byte keys with 100-byte values, acknowledged without
/// waiting for durability, on the local disk and on the S3 server.
/// </summary>
[TestFixtureSource(typeof(StoreTargets), nameof(StoreTargets.Heavy))]
public sealed class PrefillFlushTests(StoreTarget target) : StoreTargetFixture(target)
{
    private const int Keys = 1_000_000;

    [Test]
    public async Task A_flush_right_after_a_million_key_prefill_succeeds_and_every_key_reads_back()
    {
        var random = new Random(TestSeeds.Get(1_000_000));
        var order = Enumerable.Range(0, Keys).ToArray();
        random.Shuffle(order);
        await using var db = await SlateSharp.Db.OpenAsync(Store, "prefill", new DbOptions { RandomSeed = 5 });

        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var key = new byte[16];
            var value = new byte[100];
            for (var i = w; i < Keys; i += 4)
            {
                Fill(order[i], key, value);
                await db.PutAsync(key, value, WriteOptions.NoWait);
            }
        }));
        await Task.WhenAll(writers);

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.FlushAsync();

        Assert.That(db.Manifest.Conflicts, Is.Zero, "no flush may trip over the writer's own manifest writes");
        Assert.That(db.Manifest.Manifest.L0, Is.Not.Empty);
        var expectedKey = new byte[16];
        var expectedValue = new byte[100];
        var next = 0;
        await foreach (var (key, value) in db.ScanAsync(KeyRange.All))
        {
            Fill(next, expectedKey, expectedValue);
            Assert.That(key.Span.SequenceEqual(expectedKey) && value.Span.SequenceEqual(expectedValue), Is.True, $"key {next} differs in the scan");
            next++;
        }

        Assert.That(next, Is.EqualTo(Keys));
        for (var i = 0; i < 2_000; i++)
        {
            var k = random.Next(Keys);
            Fill(k, expectedKey, expectedValue);
            Assert.That(await db.GetAsync(expectedKey), Is.EqualTo(expectedValue), $"get of key {k}");
        }
    }

    /// <summary>Key n is its big-endian number padded to 16 bytes (so key order is numeric order); the value repeats it.</summary>
    private static void Fill(int n, byte[] key, byte[] value)
    {
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(8), n);
        for (var i = 0; i < value.Length; i += 4)
        {
            BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(i), n ^ i);
        }
    }
}
