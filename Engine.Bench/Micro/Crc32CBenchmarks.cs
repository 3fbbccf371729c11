using System.IO.Hashing;
using BenchmarkDotNet.Attributes;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// CRC-32C of one buffer: the loop over <c>BitOperations.Crc32C</c> (the SSE4.2 instruction, 8 bytes at a time) that
/// <c>Format/Crc32C</c> used alone until issue 12, against System.IO.Hashing's <c>Crc32ParameterSet.Crc32C</c>, and
/// the engine's <c>Format/Crc32C</c>, which picks one of the two by length, in the same run: the figures behind that
/// choice in docs/benchmarks.md.
/// </summary>
[MinColumn, MedianColumn, MaxColumn]
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [Params(64, 256, 1024, 4096, 65536, 1 << 20)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(7).NextBytes(_data);
        if (Instruction() != Library())
        {
            throw new InvalidOperationException("the two CRC-32C implementations disagree");
        }
    }

    [Benchmark(Baseline = true)]
    public uint Instruction() => InstructionCrc32C.Compute(_data);

    [Benchmark]
    public uint Library() => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, _data);

    [Benchmark]
    public uint Engine() => SlateSharp.Format.Crc32C.Compute(_data);
}
