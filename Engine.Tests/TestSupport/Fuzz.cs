using System.Buffers.Binary;
using System.Globalization;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Seeded corruption fuzzing for decoders: truncations, bit flips, overwritten bytes and words, garbage, extensions
/// and splices of a valid encoding. Each case must decode to the correct result or fail with a
/// <see cref="ErrorKind.Data"/> error; any other exception, or an allocation beyond the case's budget, fails the test
/// with the seed and case number needed to replay it. SLATESHARP_FUZZ_CASES raises the case count.
/// </summary>
internal static class Fuzz
{
    public const int DefaultCases = 10_000;

    /// <summary>Allocation budget per case: decoders must bound lengths before allocating.</summary>
    public const long AllocationBudget = 16 << 20;

    public static int Cases
    {
        get
        {
            var text = Environment.GetEnvironmentVariable("SLATESHARP_FUZZ_CASES");
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : DefaultCases;
        }
    }

    /// <summary>Returns a corrupted copy of <paramref name="valid"/> and a description of what was done.</summary>
    public static (byte[] Bytes, string Description) Mutate(Random random, byte[] valid)
    {
        var bytes = (byte[])valid.Clone();
        switch (random.Next(8))
        {
            case 0:
                var length = random.Next(valid.Length);
                return (bytes[..length], $"truncate to {length}");
            case 1:
                var flips = random.Next(1, 5);
                for (var i = 0; i < flips && bytes.Length > 0; i++)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (bytes, $"flip {flips} bits");
            case 2:
                var writes = random.Next(1, 9);
                for (var i = 0; i < writes && bytes.Length > 0; i++)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                return (bytes, $"overwrite {writes} bytes");
            case 3:
                var garbage = new byte[random.Next(valid.Length * 2 + 1)];
                random.NextBytes(garbage);
                return (garbage, $"garbage of {garbage.Length} bytes");
            case 4:
                var extra = new byte[random.Next(1, 17)];
                random.NextBytes(extra);
                return ([.. bytes, .. extra], $"append {extra.Length} bytes");
            case 5:
                var chop = random.Next(1, Math.Max(2, valid.Length));
                return (bytes[Math.Min(chop, bytes.Length)..], $"drop first {chop} bytes");
            case 6:
                var at = random.Next(valid.Length + 1);
                var insert = new byte[random.Next(1, 9)];
                random.NextBytes(insert);
                return ([.. bytes[..at], .. insert, .. bytes[at..]], $"insert {insert.Length} bytes at {at}");
            default:
                if (bytes.Length < 4)
                {
                    return (bytes, "unchanged");
                }

                var word = random.Next(bytes.Length - 3);
                uint[] extremes = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF, 0x1_0000];
                var value = extremes[random.Next(extremes.Length)];
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(word), value);
                return (bytes, $"write {value:x8} at {word}");
        }
    }

    /// <summary>
    /// Runs <see cref="Cases"/> cases. <paramref name="makeCase"/> builds one input from the case's random source;
    /// <paramref name="decodeAndCheck"/> decodes it and asserts the result is correct when decoding succeeds.
    /// </summary>
    public static void Run(string decoder, int seed, Func<Random, (byte[] Bytes, string Description)> makeCase, Action<byte[]> decodeAndCheck)
    {
        var cases = Cases;
        var random = new Random(seed);
        int succeeded = 0, rejected = 0;
        for (var i = 0; i < cases; i++)
        {
            var (bytes, description) = makeCase(random);
            var context = $"decoder={decoder} seed={seed} case={i} mutation=({description}) length={bytes.Length}";
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                decodeAndCheck(bytes);
                succeeded++;
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Data)
            {
                rejected++;
            }
            catch (WrongResultException e)
            {
                TestContext.Out.WriteLine($"FAILED {context}: {e.Message}");
                Assert.Fail($"{context}: decoded without error but wrong: {e.Message}");
            }
            catch (Exception e)
            {
                TestContext.Out.WriteLine($"FAILED {context}: {e}");
                Assert.Fail($"{context}: expected a correct result or a Data error, got {e.GetType().Name}: {e.Message}");
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > AllocationBudget)
            {
                TestContext.Out.WriteLine($"FAILED {context}: allocated {allocated} bytes");
                Assert.Fail($"{context}: allocated {allocated} bytes, over the budget of {AllocationBudget}");
            }
        }

        TestContext.Out.WriteLine($"{decoder}: seed={seed} cases={cases} decoded={succeeded} rejected={rejected}");
    }

    /// <summary>Fails the case when a decode that succeeded produced the wrong result.</summary>
    public static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new WrongResultException(what);
        }
    }

    private sealed class WrongResultException(string message) : Exception(message);
}
