using System.Buffers;
using BenchmarkDotNet.Attributes;
using SlateSharp.Sst;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// Probing a bloom filter of 1M keys at 10 bits per key (1.2 MB) with 1M distinct absent keys, so probes touch
/// the whole filter rather than a cached corner of it.
/// </summary>
public class BloomBenchmarks
{
    private const int ProbeCount = 1 << 20;

    private BloomFilter _filter = null!;
    private byte[][] _probes = [];
    private ulong[] _hashes = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        var hashes = new ulong[1_000_000];
        var key = new byte[16];
        for (var i = 0; i < hashes.Length; i++)
        {
            random.NextBytes(key);
            hashes[i] = BloomFilter.Hash(key);
        }

        var output = new ArrayBufferWriter<byte>();
        BloomFilter.Encode(hashes, 10, output);
        _filter = BloomFilter.Decode(output.WrittenMemory, "bench", 0);
        _probes = Enumerable.Range(0, ProbeCount).Select(_ =>
        {
            var probe = new byte[16];
            random.NextBytes(probe);
            return probe;
        }).ToArray();
        _hashes = _probes.Select(p => BloomFilter.Hash(p)).ToArray();
    }

    /// <summary>Hash a 16-byte key and probe (absent keys: about 1% probe all 7 bits, most stop early).</summary>
    [Benchmark]
    public bool ProbeKey() => _filter.MayContain(_probes[_next++ & (ProbeCount - 1)]);

    /// <summary>Probe with a precomputed hash (what a read does for the second and later SSTs).</summary>
    [Benchmark]
    public bool ProbeHash() => _filter.MayContain(_hashes[_next++ & (ProbeCount - 1)]);
}
