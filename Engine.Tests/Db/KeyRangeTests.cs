using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.Db;

/// <summary>KeyRange's bounds, prefix ends and validation; ScanOptions' validation; and what scans make of edge ranges.</summary>
public sealed class KeyRangeTests
{
    [TestCase("61", "62")]
    [TestCase("61FF", "62")]
    [TestCase("6162FFFF", "6163")]
    [TestCase("00", "01")]
    [TestCase("FE", "FF")]
    [TestCase("FEFF", "FF")]
    public void A_prefix_ends_at_its_last_byte_below_FF_incremented(string prefix, string end)
    {
        var range = KeyRange.Prefix(Convert.FromHexString(prefix));
        Assert.That((range.HasStart, range.HasEnd), Is.EqualTo((true, true)));
        Assert.That(Convert.ToHexString(range.Start.Span), Is.EqualTo(prefix));
        Assert.That(Convert.ToHexString(range.End.Span), Is.EqualTo(end));
    }

    [TestCase("FF")]
    [TestCase("FFFFFF")]
    public void An_all_FF_prefix_is_unbounded_above(string prefix)
    {
        var range = KeyRange.Prefix(Convert.FromHexString(prefix));
        Assert.That((range.HasStart, range.HasEnd), Is.EqualTo((true, false)));
        Assert.That(range.Contains(Convert.FromHexString(prefix + "FF00")), Is.True);
        Assert.That(range.Contains(Convert.FromHexString("FE")), Is.False);
    }

    [Test]
    public void Unbounded_ends_are_explicit()
    {
        Assert.That((KeyRange.All.HasStart, KeyRange.All.HasEnd), Is.EqualTo((false, false)));
        Assert.That((default(KeyRange).HasStart, default(KeyRange).HasEnd), Is.EqualTo((false, false)), "default is All");
        Assert.That((KeyRange.From(new byte[] { 5 }).HasStart, KeyRange.From(new byte[] { 5 }).HasEnd), Is.EqualTo((true, false)));
        Assert.That((KeyRange.Until(new byte[] { 5 }).HasStart, KeyRange.Until(new byte[] { 5 }).HasEnd), Is.EqualTo((false, true)));
        Assert.That(KeyRange.Until(new byte[] { 5 }).Contains(new byte[] { 4, 0xFF }), Is.True);
        Assert.That(KeyRange.Until(new byte[] { 5 }).Contains(new byte[] { 5 }), Is.False, "the end is exclusive");
        Assert.That(KeyRange.From(new byte[] { 5 }).Contains(new byte[] { 5 }), Is.True, "the start is inclusive");
        Assert.That(KeyRange.Between(new byte[] { 5 }, new byte[] { 5 }).IsEmpty, Is.True);
        Assert.That(KeyRange.Between(new byte[] { 5 }, new byte[] { 6 }).IsEmpty, Is.False);
    }

    private static IEnumerable<TestCaseData> InvalidRanges()
    {
        yield return Case("empty prefix", () => KeyRange.Prefix(ReadOnlyMemory<byte>.Empty));
        yield return Case("empty start", () => KeyRange.From(ReadOnlyMemory<byte>.Empty));
        yield return Case("empty end", () => KeyRange.Until(ReadOnlyMemory<byte>.Empty));
        yield return Case("empty start of between", () => KeyRange.Between(ReadOnlyMemory<byte>.Empty, new byte[] { 1 }));
        yield return Case("too long prefix", () => KeyRange.Prefix(new byte[70_000]));
        yield return Case("start after end", () => KeyRange.Between(new byte[] { 2 }, new byte[] { 1 }));
        yield return Case("start after end by length", () => KeyRange.Between(new byte[] { 1, 0 }, new byte[] { 1 }));
        yield return Case("zero limit", () => new ScanOptions { Limit = 0 });
        yield return Case("negative limit", () => new ScanOptions { Limit = -3 });
    }

    private static TestCaseData Case(string name, Func<object> call) => new TestCaseData(call).SetArgDisplayNames(name);

    [TestCaseSource(nameof(InvalidRanges))]
    public void Invalid_ranges_and_options_are_Invalid_errors(Func<object> call)
    {
        var error = Assert.Throws<SlateSharpException>(() => call());
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
    }

    [Test]
    public async Task Scans_of_edge_ranges_return_exactly_their_keys()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "edges", new DbOptions { RandomSeed = 7 });
        byte[][] keys = [[0x00], [0x61], [0x61, 0x00], [0x61, 0xFF], [0x61, 0xFF, 0xFF], [0x62], [0xFF], [0xFF, 0xFF], [0xFF, 0xFF, 0x01]];
        foreach (var key in keys)
        {
            await db.PutAsync(key, key, WriteOptions.NoWait);
        }

        async Task<string[]> Keys(KeyRange range, bool reverse = false) =>
            (await db.ScanAsync(range, new ScanOptions { Reverse = reverse }).ToListAsync()).Select(kv => Convert.ToHexString(kv.Key.Span)).ToArray();

        Assert.That(await Keys(KeyRange.Prefix(new byte[] { 0x61, 0xFF })), Is.EqualTo(new[] { "61FF", "61FFFF" }));
        Assert.That(await Keys(KeyRange.Prefix(new byte[] { 0x61, 0xFF }), reverse: true), Is.EqualTo(new[] { "61FFFF", "61FF" }));
        Assert.That(await Keys(KeyRange.Prefix(new byte[] { 0xFF })), Is.EqualTo(new[] { "FF", "FFFF", "FFFF01" }));
        Assert.That(await Keys(KeyRange.Prefix(new byte[] { 0xFF, 0xFF }), reverse: true), Is.EqualTo(new[] { "FFFF01", "FFFF" }));
        Assert.That(await Keys(KeyRange.Between(new byte[] { 0x61 }, new byte[] { 0x61 })), Is.Empty);
        Assert.That(await Keys(KeyRange.Between(new byte[] { 0x61 }, new byte[] { 0x61 }), reverse: true), Is.Empty);
        Assert.That(await Keys(KeyRange.Until(new byte[] { 0x61 }), reverse: true), Is.EqualTo(new[] { "00" }), "the end key itself is excluded in reverse too");
        Assert.That(await Keys(KeyRange.From(new byte[] { 0xFF, 0xFF })), Is.EqualTo(new[] { "FFFF", "FFFF01" }));
        Assert.That(await db.ScanPrefixAsync(new byte[] { 0x62, 0x00 }).ToListAsync(), Is.Empty);

        var keysOnly = await db.ScanAsync(KeyRange.Prefix(new byte[] { 0x61 }), new ScanOptions { KeysOnly = true, Limit = 2 }).ToListAsync();
        Assert.That(keysOnly.Select(kv => (Convert.ToHexString(kv.Key.Span), kv.Value.Length)), Is.EqualTo(new[] { ("61", 0), ("6100", 0) }));
    }

    [Test]
    public async Task A_snapshot_rejects_DurableOnly_scans()
    {
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "snap", new DbOptions { RandomSeed = 8 });
        await using var snapshot = await db.GetSnapshotAsync();
        var error = Assert.Throws<SlateSharpException>(() => snapshot.ScanAsync(KeyRange.All, new ScanOptions { DurableOnly = true }));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
    }
}
