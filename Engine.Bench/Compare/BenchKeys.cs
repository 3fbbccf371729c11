using System.Buffers.Binary;

namespace SlateSharp.Bench.Compare;

/// <summary>
/// The keys and values every engine is given. Key i starts with i big-endian, so keys sort by index and a scan from
/// key i reads keys i, i+1, ...; the rest of the key is a mix of i. Index n and above are never written (the
/// readmissing keys). Random order visits each index below n exactly once through a multiplicative permutation.
/// </summary>
internal sealed class BenchKeys(long count, int keySize, int valueSize)
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    public long Count { get; } = count;

    public int KeySize { get; } = keySize;

    public int ValueSize { get; } = valueSize;

    public byte[] Key(long index)
    {
        var key = new byte[KeySize];
        BinaryPrimitives.WriteInt64BigEndian(key, index);
        var mixed = Mix(index);
        for (var j = 8; j < key.Length; j++)
        {
            key[j] = (byte)(mixed >> (8 * (j % 8)));
        }

        return key;
    }

    public byte[] Value(long index)
    {
        var value = new byte[ValueSize];
        var mixed = Mix(index);
        for (var j = 0; j < value.Length; j++)
        {
            value[j] = (byte)(mixed >> (8 * (j % 8)));
            if (j % 8 == 7)
            {
                mixed = Mix((long)mixed);
            }
        }

        return value;
    }

    /// <summary>The index written at position <paramref name="position"/> of a fill: ascending, or a permutation of [0, Count).</summary>
    public long IndexAt(long position, bool random) => random ? (long)((UInt128)(ulong)position * Stride % (ulong)Count) : position;

    /// <summary>A stride coprime to Count, so position → position·stride mod Count is a permutation.</summary>
    private ulong Stride => field != 0 ? field : field = FindStride();

    private ulong FindStride()
    {
        var stride = (Golden >> 1) % (ulong)Count;
        while (Gcd(stride, (ulong)Count) != 1)
        {
            stride++;
        }

        return Math.Max(1, stride);
    }

    private static ulong Gcd(ulong a, ulong b) => b == 0 ? a : Gcd(b, a % b);

    private static ulong Mix(long index)
    {
        var mixed = (ulong)index * Golden;
        mixed ^= mixed >> 29;
        mixed *= 0xBF58476D1CE4E5B9UL;
        return mixed ^ (mixed >> 32);
    }
}
