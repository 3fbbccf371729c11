using SlateSharp.Common;
using SlateSharp.Sst;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Common;

public sealed class ChunkedListTests
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(8191)]
    [TestCase(8192)]
    [TestCase(8193)]
    [TestCase(50_001)]
    public void Holds_what_was_added_in_order_across_chunk_boundaries(int count)
    {
        var seed = TestSeeds.Get(7100 + count);
        var random = new Random(seed);
        var expected = new List<ulong>();
        var list = new ChunkedList<ulong>();
        for (var i = 0; i < count; i++)
        {
            var value = (ulong)random.NextInt64();
            expected.Add(value);
            list.Add(value);
        }

        Assert.That(list, Has.Count.EqualTo(count), $"seed={seed}");
        Assert.That(list, Is.EqualTo(expected), $"seed={seed}");
        var fromChunks = new List<ulong>();
        for (var chunk = 0; chunk < list.ChunkCount; chunk++)
        {
            fromChunks.AddRange(list.ChunkAt(chunk).ToArray());
        }

        Assert.That(fromChunks, Is.EqualTo(expected), $"chunks in order cover the list (seed={seed})");
        for (var probe = 0; probe < Math.Min(count, 100); probe++)
        {
            var index = random.Next(count);
            Assert.That(list[index], Is.EqualTo(expected[index]), $"index {index} (seed={seed})");
        }

        Assert.That(() => list[count], Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Chunks_of_index_entries_are_below_the_large_object_threshold()
    {
        var list = new ChunkedList<SstIndex.Entry>();
        for (var i = 0; i < 20_000; i++)
        {
            list.Add(new SstIndex.Entry(i, 1, 1, []));
        }

        Assert.That(list.ChunkCount, Is.GreaterThan(1));
        Assert.That(list.ChunkAt(0).Length * System.Runtime.CompilerServices.Unsafe.SizeOf<SstIndex.Entry>(), Is.LessThan(85_000));
    }
}
