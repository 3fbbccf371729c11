using SlateSharp.Manifest;

namespace SlateSharp.Sst;

/// <summary>Who mints an SST id; its byte in the id keeps two roles with the same epoch and seed apart.</summary>
internal enum SstIdRole : byte
{
    Writer = 0,
    Compactor = 1,
}

/// <summary>
/// Mints SST ids for one role and epoch: a ULID whose 48-bit time is the injected clock's, and whose 80 other bits are
/// the role (8 bits), the low 16 bits of the epoch, and 56 seeded random bits. Two instances never mint the same id
/// unless they share role, epoch (mod 65,536), millisecond and random bits: a writer and a compactor, or two writers
/// started with the same seed, cannot collide. Thread-safe.
/// </summary>
internal sealed class SstIdGenerator(SstIdRole role, ulong epoch, TimeProvider time, Random random)
{
    private readonly Lock _lock = new();

    public SstIdRole Role => role;

    public ulong Epoch => epoch;

    public SstId Next()
    {
        Span<byte> bits = stackalloc byte[10];
        bits[0] = (byte)role;
        bits[1] = (byte)(epoch >> 8);
        bits[2] = (byte)epoch;
        lock (_lock)
        {
            random.NextBytes(bits[3..]);
        }

        return SstId.Create(time.GetUtcNow().ToUnixTimeMilliseconds(), bits);
    }
}
