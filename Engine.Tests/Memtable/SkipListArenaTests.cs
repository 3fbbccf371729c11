using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Memtable;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Memtable;

/// <summary>
/// The skip list keeps its nodes in a <see cref="MemtableArena"/>: rows of every size come back byte for byte (small
/// ones packed into growing chunks, large ones in chunks of their own, some larger than the biggest chunk), and
/// readers that run while the writer inserts see only fully written nodes, in order.
/// </summary>
public sealed class SkipListArenaTests
{
    [Test]
    public async Task Rows_of_every_size_come_back_as_written()
    {
        var seed = TestSeeds.Get(31);
        var random = new Random(seed);
        var table = new MemoryTable((ulong)seed);
        var written = new SortedDictionary<string, (byte[] Value, long? ExpireAt, RowKind Kind)>(StringComparer.Ordinal);
        var sizes = new[] { 0, 1, 7, 100, 4_000, 200_000, 300_000, MemtableArena.MaxChunkBytes + 3, 3 * MemtableArena.MaxChunkBytes };
        for (var i = 0; i < 400; i++)
        {
            var key = $"k{random.Next(100_000):D6}-{i:D3}";
            var value = new byte[i < sizes.Length ? sizes[i] : sizes[random.Next(4)]];
            random.NextBytes(value);
            long? expireAt = i % 3 == 0 ? random.NextInt64() : null;
            var kind = i % 5 == 0 ? RowKind.Merge : RowKind.Put;
            table.Insert(System.Text.Encoding.ASCII.GetBytes(key), (ulong)i + 1, kind, value, expireAt);
            written[key] = (value, expireAt, kind);
        }

        var iterator = table.CreateIterator();
        var seen = new List<string>();
        while (await iterator.MoveNextAsync(CancellationToken.None))
        {
            var row = iterator.Current;
            var key = System.Text.Encoding.ASCII.GetString(row.Key.Span);
            seen.Add(key);
            var expected = written[key];
            Assert.That(row.Value.ToArray(), Is.EqualTo(expected.Value), $"seed={seed} key={key}");
            Assert.That((row.ExpireAt, row.Kind), Is.EqualTo((expected.ExpireAt, expected.Kind)), $"seed={seed} key={key}");
        }

        Assert.That(seen, Is.EqualTo(written.Keys.ToList()), $"seed={seed}");
        Assert.That(table.ReservedBytes, Is.GreaterThanOrEqualTo(table.SizeBytes - MemtableArena.MaxChunkBytes));
    }

    [Test]
    public async Task Readers_running_beside_the_writer_see_whole_rows_in_order()
    {
        var seed = TestSeeds.Get(37);
        var table = new MemoryTable((ulong)seed);
        const int Rows = 100_000;
        using var done = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            try
            {
                // Random keys (first byte below 0xFF) alternate with ascending keys after all of them (0xFF, then the
                // row number big-endian), so the newest of those is always the list's last node: readers watching the
                // tail read nodes the moment they are linked.
                var random = new Random(seed);
                for (var i = 1; i <= Rows; i++)
                {
                    byte[] key;
                    if (i % 2 == 0)
                    {
                        key = new byte[random.Next(1, 24)];
                        random.NextBytes(key);
                        key[0] = (byte)Math.Min(key[0], (byte)0xFE);
                    }
                    else
                    {
                        key = new byte[5];
                        key[0] = 0xFF;
                        BinaryPrimitives.WriteInt32BigEndian(key.AsSpan(1), i);
                    }

                    table.Insert(key, (ulong)i, RowKind.Put, ValueFor(key, (ulong)i), null);
                }
            }
            finally
            {
                done.Cancel();
            }
        });

        var readers = Enumerable.Range(0, 2).Select(reader => Task.Run(async () =>
        {
            var random = new Random(seed + reader + 1);
            var tailReads = 0;
            var passes = 0;
            while (!done.IsCancellationRequested || passes == 0)
            {
                var tail = table.CreateIterator();
                if (await tail.MovePreviousAsync(CancellationToken.None))
                {
                    Check(tail.Current, seed);
                    tailReads++;
                }

                var probe = new byte[random.Next(1, 24)];
                random.NextBytes(probe);
                var seek = table.CreateIterator();
                if (await seek.SeekAsync(probe, CancellationToken.None))
                {
                    Check(seek.Current, seed);
                    Assert.That(seek.Current.Key.Span.SequenceCompareTo(probe), Is.GreaterThanOrEqualTo(0), $"seed={seed}");
                }

                if (tailReads % 5_000 == 1 || done.IsCancellationRequested)
                {
                    passes++;
                    await CheckOrderAsync(table, seed);
                }
            }

            return (tailReads, passes);
        })).ToArray();

        await writer;
        var reads = await Task.WhenAll(readers);
        Assert.That(table.Count, Is.EqualTo(Rows));
        await CheckOrderAsync(table, seed);
        TestContext.Out.WriteLine($"reader tail reads and full passes: {string.Join(", ", reads)}");
    }

    private static async Task CheckOrderAsync(MemoryTable table, int seed)
    {
        var iterator = table.CreateIterator();
        RowEntry? previous = null;
        while (await iterator.MoveNextAsync(CancellationToken.None))
        {
            var row = iterator.Current;
            Check(row, seed);
            if (previous is { } before && KeyComparer.Instance.Compare(before, row) >= 0)
            {
                Assert.Fail($"seed={seed}: {Convert.ToHexString(before.Key.Span)}@{before.Sequence} before {Convert.ToHexString(row.Key.Span)}@{row.Sequence}");
            }

            previous = row;
        }
    }

    private static byte[] ValueFor(ReadOnlySpan<byte> key, ulong sequence)
    {
        var value = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(value, sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(8), (ulong)KeyComparer.PrefixOf(key).GetHashCode() ^ sequence);
        return value;
    }

    private static void Check(RowEntry row, int seed)
    {
        if (!row.Value.Span.SequenceEqual(ValueFor(row.Key.Span, row.Sequence)))
        {
            Assert.Fail($"seed={seed}: row {Convert.ToHexString(row.Key.Span)}@{row.Sequence} has value {Convert.ToHexString(row.Value.Span)}");
        }
    }
}
