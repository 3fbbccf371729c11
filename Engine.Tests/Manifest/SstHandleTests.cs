using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Manifest;

/// <summary>
/// <see cref="SstHandle.Locate"/> decides which SSTs a get probes by comparing 8-byte key prefixes first: it must
/// answer exactly as comparing the key with the first and last keys does.
/// </summary>
public sealed class SstHandleTests
{
    /// <summary>0 to 12 bytes from {0, 1, 0xff}: many shared prefixes, keys shorter than 8 bytes, zero padding ties.</summary>
    private static byte[] RandomKey(Random random)
    {
        var key = new byte[random.Next(1, 13)];
        for (var i = 0; i < key.Length; i++)
        {
            key[i] = (byte)(random.Next(3) switch { 0 => 0, 1 => 1, _ => 0xff });
        }

        return key;
    }

    [Test]
    public void Locate_answers_as_comparing_the_key_with_the_first_and_last_keys()
    {
        var seed = TestSeeds.Get(8811);
        var random = new Random(seed);
        for (var i = 0; i < 50_000; i++)
        {
            var (a, b) = (RandomKey(random), RandomKey(random));
            var (first, last) = KeyComparer.CompareKeys(a, b) <= 0 ? (a, b) : (b, a);
            var sst = new SstHandle(new SstId(1), 100, first, last, 1);
            var key = RandomKey(random);
            var expected = key.AsSpan().SequenceCompareTo(first) < 0 ? -1 : key.AsSpan().SequenceCompareTo(last) > 0 ? 1 : 0;
            Assert.That(Math.Sign(sst.Locate(key, KeyComparer.PrefixOf(key))), Is.EqualTo(expected),
                $"key={Convert.ToHexString(key)} first={Convert.ToHexString(first)} last={Convert.ToHexString(last)} seed={seed}");
        }
    }

    [Test]
    public void A_copy_with_other_keys_locates_by_its_own_keys()
    {
        var sst = new SstHandle(new SstId(1), 100, [0x10], [0x20], 1);
        var moved = sst with { FirstKey = [0x30], LastKey = [0x40] };
        byte[] key = [0x35];

        Assert.That(sst.Locate(key, KeyComparer.PrefixOf(key)), Is.Positive);
        Assert.That(moved.Locate(key, KeyComparer.PrefixOf(key)), Is.Zero);
        Assert.That((moved.FirstKeyPrefix, moved.LastKeyPrefix), Is.EqualTo((KeyComparer.PrefixOf([0x30]), KeyComparer.PrefixOf([0x40]))));
    }
}
