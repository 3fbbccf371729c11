namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// One effect of a write on a <see cref="ModelState"/>. Every kind of write the model knows is a case here and in
/// <see cref="ModelState.Apply"/>, and nowhere else. Expiries are Unix milliseconds.
/// </summary>
public abstract record ModelChange
{
    private ModelChange()
    {
    }

    public abstract bool Touches(string key);

    /// <summary>Replaces every version of <paramref name="Key"/>; with <paramref name="ExpireAt"/>, absent from then on.</summary>
    public sealed record Put(string Key, string Value, long? ExpireAt = null) : ModelChange
    {
        public override bool Touches(string key) => key == Key;
    }

    public sealed record Delete(string Key) : ModelChange
    {
        public override bool Touches(string key) => key == Key;
    }

    /// <summary>Hides every key in [<paramref name="Start"/>, <paramref name="EndExclusive"/>), at one sequence.</summary>
    public sealed record DeleteRange(string Start, string EndExclusive) : ModelChange
    {
        public override bool Touches(string key) => string.CompareOrdinal(key, Start) >= 0 && string.CompareOrdinal(key, EndExclusive) < 0;
    }

    /// <summary>
    /// A counter operand (8 bytes, little-endian, as Latin-1 chars) added to the key's value; over an absent, deleted or
    /// expired value it is the value alone. The engine refuses an expiry on a merge (an operand never expires), so the
    /// model run gives none; <paramref name="ExpireAt"/> would make the operand stop counting once expired.
    /// </summary>
    public sealed record Merge(string Key, string Operand, long? ExpireAt = null) : ModelChange
    {
        public override bool Touches(string key) => key == Key;
    }
}
