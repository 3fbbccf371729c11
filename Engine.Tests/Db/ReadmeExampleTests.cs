using System.Text;

namespace SlateSharp.Tests.Db;

/// <summary>The README's usage example, kept compiling and true (on a memory store instead of a directory).</summary>
public sealed class ReadmeExampleTests
{
    [Test]
    public async Task The_readme_example_works_as_written()
    {
        var lines = new List<string>();
        await using var db = await SlateSharp.Db.OpenAsync("memory://readme-" + Guid.NewGuid().ToString("N"), new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5) });

        await db.PutAsync("user:1"u8.ToArray(), "Ada"u8.ToArray());
        await db.PutAsync("user:2"u8.ToArray(), "Grace"u8.ToArray(), WriteOptions.NoWait);

        byte[]? name = await db.GetAsync("user:1"u8.ToArray());

        var batch = new WriteBatch().Put("a"u8, "1"u8).Delete("user:2"u8);
        await db.WriteAsync(batch);

        await foreach (var (key, value) in db.ScanAsync("user:"u8.ToArray(), "user;"u8.ToArray()))
        {
            lines.Add($"{Encoding.UTF8.GetString(key.Span)} = {Encoding.UTF8.GetString(value.Span)}");
        }

        await db.FlushAsync();
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(Encoding.UTF8.GetString(name!), Is.EqualTo("Ada"));
        Assert.That(lines, Is.EqualTo(new[] { "user:1 = Ada" }));
        Assert.That(await db.GetAsync("a"u8.ToArray()), Is.EqualTo("1"u8.ToArray()));
    }
}
