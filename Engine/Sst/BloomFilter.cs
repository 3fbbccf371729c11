using System.Buffers;
using System.Buffers.Binary;
using SlateSharp.Common;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>
/// A bloom filter over the distinct keys of an SST: XXH64 of the key, then enhanced double hashing to pick
/// <see cref="Probes"/> bits out of <see cref="BitCount"/> (docs/format/sst.md, "Filter"). At 10 bits per key it
/// answers "maybe" for about 1% of absent keys and never "no" for a present one. Immutable and thread-safe.
/// </summary>
internal sealed class BloomFilter
{
    /// <summary>The hash/probe scheme this build writes and reads.</summary>
    public const byte HashVersion = 1;

    /// <summary>Bytes before the bit array: hash version u8, probes u8.</summary>
    public const int HeaderLength = 2;

    /// <summary>The most probes a filter may use.</summary>
    public const int MaxProbes = 30;

    private readonly ReadOnlyMemory<byte> _bits;

    private BloomFilter(ReadOnlyMemory<byte> bits, int probes)
    {
        _bits = bits;
        Probes = probes;
    }

    /// <summary>Bits probed per key.</summary>
    public int Probes { get; }

    /// <summary>Size of the bit array.</summary>
    public long BitCount => _bits.Length * 8L;

    /// <summary>Managed bytes held.</summary>
    public int Size => _bits.Length;

    /// <summary>The filter hash of a key (compute once, probe many filters).</summary>
    public static ulong Hash(ReadOnlySpan<byte> key) => XxHash64.Hash(key);

    /// <summary>Probes per key for a bits-per-key budget: about ln 2 times the bits, at least 1.</summary>
    public static int ProbesFor(int bitsPerKey) => Math.Clamp((int)Math.Round(bitsPerKey * 0.69), 1, MaxProbes);

    public bool MayContain(ReadOnlySpan<byte> key) => MayContain(Hash(key));

    public bool MayContain(ulong hash)
    {
        var bits = _bits.Span;
        var bitCount = (ulong)bits.Length * 8;
        var h = hash;
        var delta = (h >> 33) | (h << 31);
        for (var i = 0; i < Probes; i++)
        {
            var bit = Math.BigMul(h, bitCount, out _);
            if ((bits[(int)(bit >> 3)] & (1 << (int)(bit & 7))) == 0)
            {
                return false;
            }

            h += delta;
            delta += (ulong)i + 1;
        }

        return true;
    }

    /// <summary>Size in bytes of the encoded filter region for <paramref name="keyCount"/> keys.</summary>
    public static int EncodedLength(int keyCount, int bitsPerKey) =>
        HeaderLength + BitArrayLength(keyCount, bitsPerKey) + SstFormat.ChecksumLength;

    /// <summary>Writes the filter region (header, bit array, CRC32C) for the given key hashes.</summary>
    public static void Encode(ReadOnlySpan<ulong> hashes, int bitsPerKey, IBufferWriter<byte> output)
    {
        var region = BeginRegion(hashes.Length, bitsPerKey, output, out var probes);
        SetBits(hashes, probes, region[HeaderLength..^SstFormat.ChecksumLength]);
        EndRegion(region, output);
    }

    /// <summary>Like <see cref="Encode(ReadOnlySpan{ulong}, int, IBufferWriter{byte})"/> for hashes kept in chunks (an SST builder's).</summary>
    public static void EncodeChunks(ChunkedList<ulong> hashes, int bitsPerKey, IBufferWriter<byte> output)
    {
        var region = BeginRegion(hashes.Count, bitsPerKey, output, out var probes);
        var bits = region[HeaderLength..^SstFormat.ChecksumLength];
        for (var chunk = 0; chunk < hashes.ChunkCount; chunk++)
        {
            SetBits(hashes.ChunkAt(chunk), probes, bits);
        }

        EndRegion(region, output);
    }

    private static Span<byte> BeginRegion(int keyCount, int bitsPerKey, IBufferWriter<byte> output, out int probes)
    {
        probes = ProbesFor(bitsPerKey);
        var length = BitArrayLength(keyCount, bitsPerKey);
        var total = HeaderLength + length + SstFormat.ChecksumLength;
        var span = output.GetSpan(total)[..total];
        span[0] = HashVersion;
        span[1] = (byte)probes;
        span.Slice(HeaderLength, length).Clear();
        return span;
    }

    private static void SetBits(ReadOnlySpan<ulong> hashes, int probes, Span<byte> bits)
    {
        var bitCount = (ulong)bits.Length * 8;
        foreach (var hash in hashes)
        {
            var h = hash;
            var delta = (h >> 33) | (h << 31);
            for (var i = 0; i < probes; i++)
            {
                var bit = Math.BigMul(h, bitCount, out _);
                bits[(int)(bit >> 3)] |= (byte)(1 << (int)(bit & 7));
                h += delta;
                delta += (ulong)i + 1;
            }
        }
    }

    private static void EndRegion(Span<byte> region, IBufferWriter<byte> output)
    {
        var checksummed = region.Length - SstFormat.ChecksumLength;
        BinaryPrimitives.WriteUInt32LittleEndian(region[checksummed..], Crc32C.Compute(region[..checksummed]));
        output.Advance(region.Length);
    }

    /// <summary>Verifies and decodes a filter region; the filter aliases <paramref name="region"/>.</summary>
    public static BloomFilter Decode(ReadOnlyMemory<byte> region, string path, long offset)
    {
        SstIndex.VerifyChecksum(region.Span, path, offset, "filter");
        var body = region[..^SstFormat.ChecksumLength];
        var reader = new SpanReader(body.Span, path, offset, "bloom filter");
        var version = reader.ReadU8();
        reader.Require(version == HashVersion, $"unknown filter hash version {version} (supported={HashVersion})");
        var probes = reader.ReadU8();
        reader.Require(probes is >= 1 and <= MaxProbes, $"bad probe count {probes}");
        reader.Require(reader.Remaining >= 8, $"bit array too short ({reader.Remaining} bytes)");
        return new BloomFilter(body[HeaderLength..], probes);
    }

    private static int BitArrayLength(int keyCount, int bitsPerKey)
    {
        var bits = Math.Max(64L, (long)keyCount * bitsPerKey);
        var bytes = (bits + 7) / 8;
        return bytes <= Array.MaxLength - 64 ? (int)bytes : throw Errors.Invalid($"bloom filter too large (keys={keyCount} bits_per_key={bitsPerKey})");
    }
}
