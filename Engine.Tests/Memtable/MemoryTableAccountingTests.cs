using SlateSharp.Format;
using SlateSharp.Memtable;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Memtable;

/// <summary>
/// What a memtable charges against <see cref="DbOptions.MaxUnflushedBytes"/> covers what its Rows really take on the
/// managed heap, so the budget is not exceeded by overhead it does not see: Rows allocate nothing outside the skip
/// list's arena, and the charges cover the arena but for the newest chunk's unused tail.
/// </summary>
public sealed class MemoryTableAccountingTests
{
    [TestCase(16, 0)]
    [TestCase(16, 100)]
    [TestCase(16, 1008)]
    [TestCase(1, 1)]
    [TestCase(100, 4000)]
    public void Charged_bytes_cover_the_heap_bytes_the_rows_allocate(int keySize, int valueSize)
    {
        var seed = TestSeeds.Get(23);
        var random = new Random(seed);
        var table = new MemoryTable((ulong)seed);
        const int Rows = 20_000;
        var keys = new byte[Rows][];
        var values = new byte[Rows][];
        for (var i = 0; i < Rows; i++)
        {
            keys[i] = new byte[keySize];
            random.NextBytes(keys[i]);
            values[i] = new byte[valueSize];
        }

        long charged = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Rows; i++)
        {
            charged += table.Insert(keys[i], (ulong)i + 1, RowKind.Put, values[i], i % 2 == 0 ? 1_000 : null);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(charged, Is.EqualTo(table.SizeBytes));
        // Beyond the chunks' bytes only their object headers and the array of chunk references are allocated, a few
        // KiB in all; any object per row (24 bytes at least) would exceed that many times over.
        Assert.That(allocated, Is.LessThanOrEqualTo(table.ReservedBytes + (16 << 10)),
            $"seed {seed}: {Rows} rows of {keySize} + {valueSize} bytes allocated {allocated} bytes ({allocated / Rows} per row) but the arena holds {table.ReservedBytes}");
        Assert.That(table.ReservedBytes - charged, Is.InRange(0, MemtableArena.MaxChunkBytes),
            $"seed {seed}: the arena holds {table.ReservedBytes} bytes but {charged} were charged");
    }
}
