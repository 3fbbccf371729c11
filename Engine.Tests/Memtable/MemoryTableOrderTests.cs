using SlateSharp.Format;
using SlateSharp.Memtable;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Memtable;

/// <summary>
/// The memtable orders rows by key (unsigned bytes) then newest sequence first, and finds the newest visible version,
/// for keys that defeat its 8-byte prefix shortcut: short keys, keys that are prefixes of others, zero bytes, and many
/// keys sharing their first 8 bytes.
/// </summary>
public sealed class MemoryTableOrderTests
{
    [Test]
    public async Task Rows_iterate_in_key_order_and_gets_find_the_newest_visible_version()
    {
        var seed = TestSeeds.Get(17);
        var random = new Random(seed);
        var table = new MemoryTable((ulong)seed);
        var alphabet = new byte[] { 0, 1, 0x7F, 0x80, 0xFF };
        var rows = new List<RowEntry>();
        for (var sequence = 1UL; sequence <= 5_000; sequence++)
        {
            // Keys of 1 to 12 bytes from a tiny alphabet: many share prefixes, many are prefixes of others.
            var key = new byte[random.Next(1, 13)];
            for (var i = 0; i < key.Length; i++)
            {
                key[i] = alphabet[random.Next(alphabet.Length)];
            }

            var value = BitConverter.GetBytes(sequence);
            table.Insert(key, sequence, RowKind.Put, value, null);
            rows.Add(RowEntry.Put(key, value, sequence));
        }

        var iterated = new List<RowEntry>();
        var iterator = table.CreateIterator();
        while (await iterator.MoveNextAsync(CancellationToken.None))
        {
            iterated.Add(iterator.Current);
        }

        var expected = rows.OrderBy(r => r, KeyComparer.Instance).ToList();
        Assert.That(iterated.Select(r => (Convert.ToHexString(r.Key.Span), r.Sequence)), Is.EqualTo(expected.Select(r => (Convert.ToHexString(r.Key.Span), r.Sequence))), $"seed={seed}");

        for (var n = 0; n < 500; n++)
        {
            var probe = rows[random.Next(rows.Count)];
            var snapshot = (ulong)random.Next(1, 5_001);
            var want = rows.Where(r => r.Sequence <= snapshot && r.Key.Span.SequenceEqual(probe.Key.Span)).Select(r => (ulong?)r.Sequence).Max();
            var got = table.Get(probe.Key.Span, snapshot);
            Assert.That(got?.Sequence, Is.EqualTo(want), $"seed={seed} key={Convert.ToHexString(probe.Key.Span)} snapshot={snapshot}");
        }
    }
}
