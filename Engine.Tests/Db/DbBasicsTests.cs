using System.Text;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.Db;

public sealed class DbBasicsTests
{
    private static readonly DbOptions Fast = new() { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 1 };

    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    [Test]
    public async Task Put_get_delete_and_overwrite()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Fast);

        await db.PutAsync(B("a"), B("1"));
        await db.PutAsync(B("b"), B("2"), WriteOptions.NoWait);
        await db.PutAsync(B("a"), B("3"));
        await db.DeleteAsync(B("b"));

        Assert.That(S(await db.GetAsync(B("a"))), Is.EqualTo("3"));
        Assert.That(await db.GetAsync(B("b")), Is.Null);
        Assert.That(await db.GetAsync(B("zzz")), Is.Null);
    }

    [Test]
    public async Task Batches_in_key_order_out_of_order_and_larger_than_the_kept_scratch_each_write_exactly_their_rows()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Fast);
        var random = new Random(TestSupport.TestSeeds.Get(41));
        var expected = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (size, order) in new[] { (50, "ascending"), (5000, "shuffled"), (3, "descending"), (6000, "ascending"), (40, "shuffled") })
        {
            var keys = Enumerable.Range(0, size).Select(i => $"k{random.Next(20_000):D5}").Distinct().Order(StringComparer.Ordinal).ToList();
            keys = order switch
            {
                "descending" => keys.AsEnumerable().Reverse().ToList(),
                "shuffled" => keys.OrderBy(_ => random.Next()).ToList(),
                _ => keys,
            };
            var batch = new WriteBatch();
            foreach (var key in keys)
            {
                var value = $"{order}-{size}-{key}";
                batch.Put(B(key).Span, B(value).Span);
                expected[key] = value;
            }

            await db.WriteAsync(batch);
        }

        var scanned = new List<(string, string)>();
        await foreach (var row in db.ScanAsync(KeyRange.All))
        {
            scanned.Add((Encoding.UTF8.GetString(row.Key.Span), Encoding.UTF8.GetString(row.Value.Span)));
        }

        Assert.That(scanned, Is.EqualTo(expected.Select(p => (p.Key, p.Value)).ToList()));
    }

    [Test]
    public async Task Batches_apply_atomically_and_the_last_operation_per_key_wins()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Fast);
        await db.PutAsync(B("gone"), B("x"));

        var batch = new WriteBatch().Put(B("k").Span, B("first").Span).Put(B("k").Span, B("second").Span).Delete(B("gone").Span).Put(B("n").Span, B("v").Span);
        await db.WriteAsync(batch);

        Assert.That(S(await db.GetAsync(B("k"))), Is.EqualTo("second"));
        Assert.That(await db.GetAsync(B("gone")), Is.Null);
        Assert.That(S(await db.GetAsync(B("n"))), Is.EqualTo("v"));
    }

    [Test]
    public async Task Scans_merge_memtable_and_l0_in_order_within_bounds()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Fast);
        foreach (var k in new[] { "a", "c", "e", "g" })
        {
            await db.PutAsync(B(k), B("old-" + k));
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        await db.PutAsync(B("c"), B("new-c"));
        await db.DeleteAsync(B("e"));
        await db.PutAsync(B("d"), B("new-d"));

        var all = await db.ScanAsync(KeyRange.All).Select(kv => $"{Encoding.UTF8.GetString(kv.Key.Span)}={Encoding.UTF8.GetString(kv.Value.Span)}").ToListAsync();
        var bounded = await db.ScanAsync(KeyRange.Between(B("b"), B("g"))).Select(kv => Encoding.UTF8.GetString(kv.Key.Span)).ToListAsync();

        Assert.That(all, Is.EqualTo(new[] { "a=old-a", "c=new-c", "d=new-d", "g=old-g" }));
        Assert.That(bounded, Is.EqualTo(new[] { "c", "d" }));
    }

    [Test]
    public async Task Data_survives_close_and_reopen_from_l0_and_wal()
    {
        var store = new InMemoryObjectStore();
        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", Fast))
        {
            await db.PutAsync(B("in-l0"), B("1"));
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            await db.PutAsync(B("in-wal"), B("2"));
            await db.CloseAsync();
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(store, "db", Fast);

        Assert.That(S(await reopened.GetAsync(B("in-l0"))), Is.EqualTo("1"));
        Assert.That(S(await reopened.GetAsync(B("in-wal"))), Is.EqualTo("2"));
        Assert.That(reopened.WriterEpoch, Is.EqualTo(2));
    }
}
