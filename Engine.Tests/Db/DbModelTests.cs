using System.Globalization;
using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// Random, seeded sequences of puts, deletes, batches, gets, scans, flushes and close/reopen cycles, checked after
/// every read against a <see cref="SortedDictionary{TKey,TValue}"/> model. Small memtables and WAL objects make the
/// run cross many memtable freezes, L0 flushes and WAL replays. 100,000 operations in all.
/// </summary>
public sealed class DbModelTests
{
    private const int KeySpace = 400;

    [TestCase("memory", 1, 10_000)]
    [TestCase("memory", 2, 10_000)]
    [TestCase("memory", 3, 10_000)]
    [TestCase("memory", 4, 10_000)]
    [TestCase("memory", 5, 10_000)]
    [TestCase("memory", 6, 10_000)]
    [TestCase("local", 7, 10_000)]
    [TestCase("local", 8, 10_000)]
    [TestCase("local", 9, 10_000)]
    [TestCase("local", 10, 10_000)]
    public async Task Random_operations_match_a_sorted_dictionary(string storeKind, int defaultSeed, int operations)
    {
        var seed = TestSeeds.Get(defaultSeed);
        var random = new Random(seed);
        using var directory = new TestDirectory();
        using var local = storeKind == "local" ? LocalFileSystemObjectStore.Open(directory.Path) : null;
        IObjectStore store = local is null ? new InMemoryObjectStore() : local;
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(2),
            MemtableSizeBytes = 16 << 10,
            MaxUnflushedBytes = 256 << 10,
            WalObjectMaxBytes = 8 << 10,
            BlockSizeBytes = 512,
            L0MaxSsts = 100_000,
            RandomSeed = seed,
        };
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var db = await SlateSharp.Db.OpenAsync(store, "model", options);
        try
        {
            for (var op = 0; op < operations; op++)
            {
                var context = $"seed={seed} op={op} (SLATESHARP_TEST_SEED={seed} replays it)";
                var choice = random.Next(100);

                if (choice < 35)
                {
                    var (key, value) = (Key(random), Value(random));
                    await db.PutAsync(Bytes(key), Bytes(value), random.Next(10) == 0 ? WriteOptions.Default : WriteOptions.NoWait);
                    model[key] = value;
                }
                else if (choice < 45)
                {
                    var key = Key(random);
                    await db.DeleteAsync(Bytes(key), WriteOptions.NoWait);
                    model.Remove(key);
                }
                else if (choice < 52)
                {
                    var batch = new WriteBatch();
                    var changes = new List<(string Key, string? Value)>();
                    for (var i = random.Next(1, 8); i > 0; i--)
                    {
                        var key = Key(random);
                        var value = random.Next(4) == 0 ? null : Value(random);
                        _ = value is null ? batch.Delete(Bytes(key).Span) : batch.Put(Bytes(key).Span, Bytes(value).Span);
                        changes.Add((key, value));
                    }

                    await db.WriteAsync(batch, WriteOptions.NoWait);
                    foreach (var (key, value) in changes)
                    {
                        if (value is null)
                        {
                            model.Remove(key);
                        }
                        else
                        {
                            model[key] = value;
                        }
                    }
                }
                else if (choice < 82)
                {
                    var key = Key(random);
                    var got = await db.GetAsync(Bytes(key));
                    Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo(model.GetValueOrDefault(key)), $"get {key}; {context}");
                }
                else if (choice < 92)
                {
                    var (start, end) = Range(random);
                    var scanned = await db.ScanAsync(start is null ? default : Bytes(start), end is null ? default : Bytes(end))
                        .Select(kv => (Encoding.UTF8.GetString(kv.Key.Span), Encoding.UTF8.GetString(kv.Value.Span))).ToListAsync();
                    var expected = model.Where(kv => (start is null || string.CompareOrdinal(kv.Key, start) >= 0) && (end is null || string.CompareOrdinal(kv.Key, end) < 0))
                        .Select(kv => (kv.Key, kv.Value)).ToList();
                    Assert.That(scanned, Is.EqualTo(expected), $"scan [{start}, {end}); {context}");
                }
                else if (choice < 96)
                {
                    await db.FlushAsync();
                }
                else if (choice < 99)
                {
                    await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
                }
                else
                {
                    await db.CloseAsync();
                    db = await SlateSharp.Db.OpenAsync(store, "model", options);
                }
            }

            await db.CloseAsync();
            db = await SlateSharp.Db.OpenAsync(store, "model", options);
            var final = await db.ScanAsync(default, default).Select(kv => (Encoding.UTF8.GetString(kv.Key.Span), Encoding.UTF8.GetString(kv.Value.Span))).ToListAsync();
            Assert.That(final, Is.EqualTo(model.Select(kv => (kv.Key, kv.Value)).ToList()), $"after reopening; seed={seed}");
        }
        finally
        {
            await db.DisposeAsync();
        }
    }

    private static string Key(Random random) => "key-" + random.Next(KeySpace).ToString("D4", CultureInfo.InvariantCulture);

    private static string Value(Random random) => new('v', random.Next(0, 120));

    private static (string? Start, string? End) Range(Random random)
    {
        var a = random.Next(KeySpace + 1);
        var b = random.Next(KeySpace + 1);
        var start = random.Next(6) == 0 ? null : "key-" + Math.Min(a, b).ToString("D4", CultureInfo.InvariantCulture);
        var end = random.Next(6) == 0 ? null : "key-" + Math.Max(a, b).ToString("D4", CultureInfo.InvariantCulture);
        return (start, end);
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
