using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// Scans of every shape (forward, reverse, limited, keys-only, prefix; bounded either side or not) and GetMany,
/// checked against a <see cref="SortedDictionary{TKey, TValue}"/> over a database whose rows lie everywhere at once:
/// a compacted sorted run of several SSTs, L0 SSTs above it, and the memtable, with overwrites and deletes across the
/// layers. A snapshot taken midway must answer, in both directions, as the model did then.
/// </summary>
public sealed class ScanModelTests
{
    private static readonly byte[][] Prefixes = [[0x61], [0x61, 0x62], [0x62], [0xFF], [0xFF, 0xFF]];
    private static readonly Comparer<byte[]> Bytes = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    [Test]
    public async Task Scans_match_a_sorted_dictionary_across_memtables_l0_and_a_sorted_run()
    {
        var seed = TestSeeds.Get(401);
        var random = new Random(seed);
        var store = new InMemoryObjectStore();
        var options = DbModelRun.SmallOptions(seed, compaction: false);
        var model = new SortedDictionary<byte[], byte[]>(Bytes);

        await using (var db = await SlateSharp.Db.OpenAsync(store, "", options))
        {
            for (var flush = 0; flush < 6; flush++)
            {
                await WriteAsync(db, model, random, 300);
                await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            }

            await using var compactor = await DbCompactor.OpenAsync(store, "", options);
            for (var jobs = 0; jobs < 50 && await compactor.RunOnceAsync(); jobs++)
            {
            }
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(store, "", options);
        var manifest = reopened.ViewManifest;
        Assert.That(manifest.SortedRuns.Sum(r => r.Ssts.Count), Is.GreaterThan(1), "a compacted run of several SSTs");
        await WriteAsync(reopened, model, random, 300);
        await reopened.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await WriteAsync(reopened, model, random, 200);
        Assert.That(reopened.ViewManifest.L0, Is.Not.Empty, "L0 SSTs above the run");

        await using var snapshot = await reopened.GetSnapshotAsync();
        var then = new SortedDictionary<byte[], byte[]>(model, Bytes);
        await WriteAsync(reopened, model, random, 200);

        for (var query = 0; query < 300; query++)
        {
            var (range, describe, contains) = RandomRange(random);
            var scan = new ScanOptions { Reverse = random.Next(2) == 0, Limit = random.Next(3) == 0 ? random.Next(1, 20) : null, KeysOnly = random.Next(4) == 0 };
            var what = $"seed={seed} query={query} range={describe} reverse={scan.Reverse} limit={scan.Limit} keysOnly={scan.KeysOnly}";
            Assert.That(await Rows(reopened.ScanAsync(range, scan)), Is.EqualTo(Expected(model, contains, scan)), what);
            if (query % 3 == 0)
            {
                Assert.That(await Rows(snapshot.ScanAsync(range, scan)), Is.EqualTo(Expected(then, contains, scan)), "snapshot " + what);
            }
        }

        for (var query = 0; query < 30; query++)
        {
            var prefix = Prefixes[random.Next(Prefixes.Length)];
            var scan = new ScanOptions { Reverse = random.Next(2) == 0 };
            Assert.That(await Rows(reopened.ScanPrefixAsync(prefix, scan)), Is.EqualTo(Expected(model, k => k.AsSpan().StartsWith(prefix), scan)), $"seed={seed} prefix={Convert.ToHexString(prefix)}");

            var keys = Enumerable.Range(0, random.Next(1, 40)).Select(_ => (ReadOnlyMemory<byte>)RandomKey(random)).ToList();
            var values = await reopened.GetManyAsync(keys);
            Assert.That(values.Select(Hex), Is.EqualTo(keys.Select(k => Hex(model.GetValueOrDefault(k.ToArray())))), $"seed={seed} get-many {query}");
            var thenValues = await snapshot.GetManyAsync(keys);
            Assert.That(thenValues.Select(Hex), Is.EqualTo(keys.Select(k => Hex(then.GetValueOrDefault(k.ToArray())))), $"seed={seed} snapshot get-many {query}");
        }
    }

    private static string? Hex(byte[]? value) => value is null ? null : Convert.ToHexString(value);

    private static async Task<List<string>> Rows(IAsyncEnumerable<KeyValue> scan) =>
        await scan.Select(kv => $"{Convert.ToHexString(kv.Key.Span)}={Convert.ToHexString(kv.Value.Span)}").ToListAsync();

    private static List<string> Expected(SortedDictionary<byte[], byte[]> model, Func<byte[], bool> contains, ScanOptions scan)
    {
        var rows = model.Where(kv => contains(kv.Key));
        if (scan.Reverse)
        {
            rows = rows.Reverse();
        }

        return rows.Take(scan.Limit ?? int.MaxValue).Select(kv => $"{Convert.ToHexString(kv.Key)}={(scan.KeysOnly ? "" : Convert.ToHexString(kv.Value))}").ToList();
    }

    private static (KeyRange Range, string Describe, Func<byte[], bool> Contains) RandomRange(Random random)
    {
        var a = RandomKey(random);
        var b = RandomKey(random);
        if (Bytes.Compare(a, b) > 0)
        {
            (a, b) = (b, a);
        }

        switch (random.Next(5))
        {
            case 0:
                return (KeyRange.All, "all", _ => true);
            case 1:
                return (KeyRange.From(a), $"from {Convert.ToHexString(a)}", k => Bytes.Compare(k, a) >= 0);
            case 2:
                return (KeyRange.Until(b), $"until {Convert.ToHexString(b)}", k => Bytes.Compare(k, b) < 0);
            case 3:
                return (KeyRange.Between(a, b), $"between {Convert.ToHexString(a)} {Convert.ToHexString(b)}", k => Bytes.Compare(k, a) >= 0 && Bytes.Compare(k, b) < 0);
            default:
                var prefix = random.Next(2) == 0 ? Prefixes[random.Next(Prefixes.Length)] : a[..Math.Max(1, a.Length - 1)];
                return (KeyRange.Prefix(prefix), $"prefix {Convert.ToHexString(prefix)}", k => k.AsSpan().StartsWith(prefix));
        }
    }

    /// <summary>A prefix and a number below 400: a key space small enough for overwrites and deletes to meet.</summary>
    private static byte[] RandomKey(Random random) =>
        [.. Prefixes[random.Next(Prefixes.Length)], .. System.Text.Encoding.ASCII.GetBytes(random.Next(80).ToString("D2", System.Globalization.CultureInfo.InvariantCulture))];

    private static async Task WriteAsync(SlateSharp.Db db, SortedDictionary<byte[], byte[]> model, Random random, int operations)
    {
        for (var i = 0; i < operations; i++)
        {
            var key = RandomKey(random);
            if (random.Next(5) == 0)
            {
                await db.DeleteAsync(key, WriteOptions.NoWait);
                model.Remove(key);
            }
            else
            {
                var value = new byte[random.Next(0, 120)];
                random.NextBytes(value);
                await db.PutAsync(key, value, WriteOptions.NoWait);
                model[key] = value;
            }
        }
    }
}
