using System.Buffers.Binary;
using System.Globalization;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Seeded corruption fuzzing for decoders: truncations, bit flips, overwritten bytes and words, garbage, extensions
/// and splices of a valid encoding, in a share of cases with the checksums recomputed afterwards so the mutation
/// reaches the structural checks behind them. Each case must decode to a result its check accepts (the original value
/// for an unchanged input; otherwise a value that is consistent, typically one that re-encodes and decodes to itself)
/// or fail with a <see cref="ErrorKind.Data"/> error; any other exception, or an allocation beyond the case's budget,
/// fails the test with the seed and case number needed to replay it. A run also fails when too few cases decode (a
/// decoder that rejects everything would otherwise pass) or too few are rejected (the mutations would not be
/// reaching the error paths). SLATESHARP_FUZZ_CASES raises the case count.
/// </summary>
internal static class Fuzz
{
    public const int DefaultCases = 10_000;

    /// <summary>The least share of cases a run may require to decode: lower would not show the decoder accepts anything.</summary>
    public const double MinimumDecodedShare = 0.05;

    /// <summary>The share of cases that must be rejected: mutations that never break anything test nothing.</summary>
    public const double MinimumRejectedShare = 0.05;

    /// <summary>Below this many cases the shares are printed but not enforced (too few to be a stable proportion).</summary>
    public const int MinimumCasesForShares = 200;

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
    /// One small change that keeps the length: flip one bit, overwrite one byte, or add ±1 to a little-endian u32 (an
    /// off-by-one in a length or count). Behind recomputed checksums these reach every field's own validation.
    /// </summary>
    public static (byte[] Bytes, string Description) MutateInPlace(Random random, byte[] valid)
    {
        var bytes = (byte[])valid.Clone();
        if (bytes.Length < 4)
        {
            return (bytes, "unchanged");
        }

        switch (random.Next(3))
        {
            case 0:
                var bit = random.Next(bytes.Length * 8);
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                return (bytes, $"bitflip at bit {bit}");
            case 1:
                var at = random.Next(bytes.Length);
                bytes[at] = (byte)random.Next(256);
                return (bytes, $"byte at {at} set to {bytes[at]:x2}");
            default:
                var word = random.Next(bytes.Length - 3);
                var delta = random.Next(2) == 0 ? 1u : uint.MaxValue;
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(word), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(word)) + delta);
                return (bytes, $"nudge u32 at {word} by {(delta == 1 ? "+1" : "-1")}");
        }
    }

    /// <summary>Half <see cref="Mutate"/>, half <see cref="MutateInPlace"/>: for inputs whose checksums are always recomputed.</summary>
    public static (byte[] Bytes, string Description) MutateAny(Random random, byte[] valid) =>
        random.Next(2) == 0 ? Mutate(random, valid) : MutateInPlace(random, valid);

    /// <summary>
    /// A third of the cases <see cref="Mutate"/> alone (the checksums must catch it), a third <see cref="Mutate"/> and
    /// a third <see cref="MutateInPlace"/> followed by <paramref name="repair"/>, which recomputes the checksums the
    /// format's framing lets it find, so the mutation reaches the structural checks behind them.
    /// </summary>
    public static (byte[] Bytes, string Description) MutateMaybeRepaired(Random random, byte[] valid, Func<byte[], byte[]> repair)
    {
        var choice = random.Next(3);
        var (bytes, description) = choice == 2 ? MutateInPlace(random, valid) : Mutate(random, valid);
        return choice == 0 ? (bytes, description) : (repair(bytes), description + ", checksums repaired");
    }

    /// <summary>
    /// Runs <see cref="Cases"/> cases. <paramref name="makeCase"/> builds one input from the case's random source;
    /// <paramref name="decodeAndCheck"/> decodes it and, when decoding succeeds, checks the result with
    /// <see cref="Expect"/>. At least <paramref name="minDecodedShare"/> of the cases must decode (at least
    /// <see cref="MinimumDecodedShare"/>) and at least <see cref="MinimumRejectedShare"/> must be rejected.
    /// </summary>
    public static void Run(
        string decoder, int seed, Func<Random, (byte[] Bytes, string Description)> makeCase, Action<byte[]> decodeAndCheck, double minDecodedShare,
        int? cases = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minDecodedShare, MinimumDecodedShare);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minDecodedShare, 1 - MinimumRejectedShare);
        var count = cases ?? Cases;
        var random = new Random(seed);
        int succeeded = 0, rejected = 0;
        var byMutation = new SortedDictionary<string, (int Decoded, int Total)>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var (bytes, description) = makeCase(random);
            var context = $"decoder={decoder} seed={seed} case={i} mutation=({description}) length={bytes.Length}";
            var kind = MutationKind(description);
            var (kindDecoded, kindTotal) = byMutation.GetValueOrDefault(kind);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                decodeAndCheck(bytes);
                succeeded++;
                byMutation[kind] = (kindDecoded + 1, kindTotal + 1);
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Data)
            {
                rejected++;
                byMutation[kind] = (kindDecoded, kindTotal + 1);
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

        var kinds = string.Join(", ", byMutation.Select(k => $"{k.Key} {k.Value.Decoded}/{k.Value.Total}"));
        TestContext.Out.WriteLine($"{decoder}: seed={seed} cases={count} decoded={succeeded} rejected={rejected} (decoded/total by mutation: {kinds})");
        if (count < MinimumCasesForShares)
        {
            TestContext.Out.WriteLine($"{decoder}: {count} cases are too few to enforce the decoded and rejected shares");
            return;
        }

        Assert.That(succeeded, Is.GreaterThanOrEqualTo((int)Math.Ceiling(minDecodedShare * count)),
            $"decoder={decoder} seed={seed}: only {succeeded} of {count} cases decoded, fewer than the required share {minDecodedShare:P0} (a decoder that rejects everything must not pass)");
        Assert.That(rejected, Is.GreaterThanOrEqualTo((int)Math.Ceiling(MinimumRejectedShare * count)),
            $"decoder={decoder} seed={seed}: only {rejected} of {count} cases were rejected; the mutations are not reaching the error paths");
    }

    /// <summary>The mutation's name (the description's first word) and whether its checksums were repaired.</summary>
    private static string MutationKind(string description)
    {
        var space = description.IndexOf(' ', StringComparison.Ordinal);
        var name = space < 0 ? description : description[..space];
        return description.EndsWith(", checksums repaired", StringComparison.Ordinal) ? name + "+repaired" : name;
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
