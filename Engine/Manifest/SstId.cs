namespace SlateSharp.Manifest;

/// <summary>
/// The identity of a compacted or L0 SST: a 128-bit ULID (48-bit millisecond timestamp, 80 random bits), written
/// as 26 Crockford base-32 characters in object names (<c>compacted/01JD5...sst</c>).
/// </summary>
internal readonly record struct SstId(UInt128 Value) : IComparable<SstId>
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public int CompareTo(SstId other) => Value.CompareTo(other.Value);

    /// <summary>When the id was minted: its 48-bit Unix millisecond timestamp (what GC ages an unreferenced SST by).</summary>
    public long UnixMilliseconds => (long)(ulong)(Value >> 80);

    /// <summary>Builds an id from a Unix millisecond timestamp and 80 random bits.</summary>
    public static SstId Create(long unixMilliseconds, ReadOnlySpan<byte> random80)
    {
        if (random80.Length != 10)
        {
            throw new ArgumentException("need exactly 10 random bytes", nameof(random80));
        }

        UInt128 value = (ulong)unixMilliseconds & 0xFFFF_FFFF_FFFF;
        foreach (var b in random80)
        {
            value = (value << 8) | b;
        }

        return new SstId(value);
    }

    /// <summary>Parses the 26-character form; returns false for anything else.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out SstId id)
    {
        id = default;
        if (text.Length != 26 || text[0] > '7')
        {
            return false;
        }

        UInt128 value = 0;
        foreach (var c in text)
        {
            var digit = Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 5) | (uint)digit;
        }

        id = new SstId(value);
        return true;
    }

    /// <summary>The 26-character Crockford base-32 form.</summary>
    public override string ToString()
    {
        Span<char> chars = stackalloc char[26];
        var value = Value;
        for (var i = 25; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }

        return new string(chars);
    }
}
