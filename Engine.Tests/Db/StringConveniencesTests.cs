using System.Text;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.Db;

public sealed class StringConveniencesTests
{
    [Test]
    public async Task String_keys_and_values_round_trip_as_utf8_through_puts_batches_deletes_and_scans()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "strings", new DbOptions { RandomSeed = 19 });
        await db.PutAsync("grüße", "→ ok ✓");
        await db.WriteAsync(new WriteBatch().Put("b", "2").Put("c", "3").Delete("grüße"));
        await db.PutAsync("日本", "語");
        await db.DeleteAsync("c");

        Assert.Multiple(async () =>
        {
            Assert.That(await db.GetStringAsync("grüße"), Is.Null, "deleted in the batch");
            Assert.That(await db.GetStringAsync("b"), Is.EqualTo("2"));
            Assert.That(await db.GetStringAsync("c"), Is.Null);
            Assert.That(await db.GetStringAsync("日本"), Is.EqualTo("語"));
            Assert.That(await db.GetAsync(Encoding.UTF8.GetBytes("日本")), Is.EqualTo(Encoding.UTF8.GetBytes("語")), "stored as UTF-8 bytes");
        });

        var rows = new List<(string, string)>();
        await foreach (var row in db.ScanAsync(KeyRange.All))
        {
            rows.Add((row.KeyString(), row.ValueString()));
        }

        Assert.That(rows, Is.EqualTo(new[] { ("b", "2"), ("日本", "語") }), "ordered by UTF-8 bytes");
    }

    [Test]
    public async Task A_value_that_is_not_utf8_is_a_clear_error_naming_the_key()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "binary", new DbOptions { RandomSeed = 20 });
        await db.PutAsync(Encoding.UTF8.GetBytes("blob"), new byte[] { 0xff, 0xfe, 0x00 });
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await db.GetStringAsync("blob"));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("'blob'"));
        Assert.ThrowsAsync<ArgumentNullException>(async () => await db.PutAsync(null!, "v"));
    }
}
