using System.Text;

namespace SlateSharp.Tests.Db;

/// <summary>The README's usage example, kept compiling and true, on a <c>file://</c> directory as written there.</summary>
public sealed class ReadmeExampleTests
{
    [Test]
    public async Task The_readme_example_works_as_written()
    {
        var lines = new List<string>();
        using var directory = new TestSupport.TestDirectory();
        var time = new Gc.ShiftedTimeProvider();
        await using var db = await SlateSharp.Db.OpenAsync("file://" + directory.Path, new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), TimeProvider = time });

        await db.PutAsync("user:1"u8.ToArray(), "Ada"u8.ToArray());
        await db.PutAsync("user:2"u8.ToArray(), "Grace"u8.ToArray(), WriteOptions.NoWait);

        byte[]? name = await db.GetAsync("user:1"u8.ToArray());

        var batch = new WriteBatch().Put("a"u8, "1"u8).Delete("user:2"u8);
        await db.WriteAsync(batch);

        await foreach (var (key, value) in db.ScanPrefixAsync("user:"u8.ToArray()))
        {
            lines.Add($"{Encoding.UTF8.GetString(key.Span)} = {Encoding.UTF8.GetString(value.Span)}");
        }

        var last = await db.ScanAsync(KeyRange.From("a"u8.ToArray()),
            new ScanOptions { Reverse = true, Limit = 10 }).ToListAsync();

        byte[]? then;
        await using (var snapshot = await db.GetSnapshotAsync())
        {
            await db.PutAsync("user:1", "Ada Lovelace");
            then = await snapshot.GetAsync("user:1"u8.ToArray());
        }

        await db.PutAsync("session:9", "token", new WriteOptions { Ttl = TimeSpan.FromMinutes(30) });

        await db.FlushAsync();
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(Encoding.UTF8.GetString(name!), Is.EqualTo("Ada"));
        Assert.That(Encoding.UTF8.GetString(then!), Is.EqualTo("Ada"), "the snapshot kept its point in time");
        Assert.That(await db.GetStringAsync("user:1"), Is.EqualTo("Ada Lovelace"));
        Assert.That(await db.GetStringAsync("session:9"), Is.EqualTo("token"));
        time.Advance(TimeSpan.FromMinutes(31));
        Assert.That(await db.GetStringAsync("session:9"), Is.Null, "expired after its TTL");
        Assert.That(lines, Is.EqualTo(new[] { "user:1 = Ada" }));
        Assert.That(last.Select(kv => Encoding.UTF8.GetString(kv.Key.Span)), Is.EqualTo(new[] { "user:1", "a" }), "descending from the last key");
        Assert.That(await db.GetAsync("a"u8.ToArray()), Is.EqualTo("1"u8.ToArray()));
    }
}
