using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;

namespace SlateSharp.Common;

/// <summary>
/// The engine's one source of randomness (backoff jitter, unique ids): xoshiro256** behind a lock. Tests seed it
/// to replay a run; production seeds it from the operating system's entropy so two processes never share a
/// sequence (ids drawn from it are compared across processes, e.g. put ids).
/// </summary>
internal sealed class RandomSource
{
    private readonly Lock _lock = new();
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>A source whose whole sequence follows from <paramref name="seed"/>.</summary>
    public RandomSource(ulong seed)
    {
        // SplitMix64 expands the seed into the four state words, as the xoshiro authors recommend.
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    private RandomSource(ReadOnlySpan<byte> state)
    {
        _s0 = BitConverter.ToUInt64(state[..8]);
        _s1 = BitConverter.ToUInt64(state[8..16]);
        _s2 = BitConverter.ToUInt64(state[16..24]);
        _s3 = BitConverter.ToUInt64(state[24..32]) | 1; // never all zero
    }

    /// <summary>A source seeded with 256 bits from the operating system.</summary>
    public static RandomSource FromEntropy()
    {
        Span<byte> state = stackalloc byte[32];
        RandomNumberGenerator.Fill(state);
        return new RandomSource(state);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        lock (_lock)
        {
            var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = BitOperations.RotateLeft(_s3, 45);
            return result;
        }
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>128 random bits as 32 lowercase hex digits: a unique id.</summary>
    public string NextId() =>
        NextUInt64().ToString("x16", CultureInfo.InvariantCulture) + NextUInt64().ToString("x16", CultureInfo.InvariantCulture);

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
