using System.Text;
using SlateSharp.Format;

namespace SlateSharp.Bench.Micro;

/// <summary>Deterministic inputs shared by the micro-benchmarks.</summary>
internal static class MicroData
{
    /// <summary>Rows with 16-byte keys ("key-%012d") and 100-byte values that compress about 2:1, like typical payloads.</summary>
    public static RowEntry[] Rows(int count, int seed = 42)
    {
        var random = new Random(seed);
        var rows = new RowEntry[count];
        for (var i = 0; i < count; i++)
        {
            rows[i] = RowEntry.Put(Encoding.ASCII.GetBytes($"key-{i * 3:D12}"), Value(random, 100), (ulong)i + 1);
        }

        return rows;
    }

    /// <summary>A block of <paramref name="size"/> bytes made of 128-byte <see cref="Value"/>s (seed 5): what the codec benchmarks compress.</summary>
    public static byte[] CompressibleBlock(int size)
    {
        var random = new Random(5);
        var block = new byte[size];
        for (var offset = 0; offset < size; offset += 128)
        {
            Value(random, Math.Min(128, size - offset)).CopyTo(block, offset);
        }

        return block;
    }

    /// <summary>Half random bytes, half a repeated pattern.</summary>
    public static byte[] Value(Random random, int length)
    {
        var value = new byte[length];
        random.NextBytes(value.AsSpan(0, length / 2));
        for (var i = length / 2; i < length; i++)
        {
            value[i] = (byte)('a' + (i % 7));
        }

        return value;
    }
}
