namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Random keys for testing comparisons that look at 8-byte prefixes first (<see cref="SlateSharp.Format.KeyComparer.PrefixOf"/>):
/// 1 to 12 bytes from {0, 1, 0xff}, so many keys tie on the prefix, many are shorter than 8 bytes, many are prefixes of
/// each other and zero padding ties with real zero bytes.
/// </summary>
public static class PrefixTieKeys
{
    public static byte[] Next(Random random)
    {
        var key = new byte[random.Next(1, 13)];
        for (var i = 0; i < key.Length; i++)
        {
            key[i] = (byte)(random.Next(3) switch { 0 => 0, 1 => 1, _ => 0xff });
        }

        return key;
    }
}
