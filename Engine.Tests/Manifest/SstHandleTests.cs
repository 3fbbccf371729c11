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
    [Test]
    public void Locate_answers_as_comparing_the_key_with_the_first_and_last_keys()
    {
        var seed = TestSeeds.Get(8811);
        var random = new Random(seed);
        for (var i = 0; i < 50_000; i++)
        {
            var (a, b) = (PrefixTieKeys.Next(random), PrefixTieKeys.Next(random));
            var (first, last) = KeyComparer.CompareKeys(a, b) <= 0 ? (a, b) : (b, a);
            var sst = new SstHandle(new SstId(1), 100, first, last, 1);
            var key = PrefixTieKeys.Next(random);
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
