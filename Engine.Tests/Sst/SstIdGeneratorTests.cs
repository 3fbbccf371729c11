using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>SST ids carry the injected clock's time, their minter's role and epoch, and never collide across minters.</summary>
public sealed class SstIdGeneratorTests
{
    [Test]
    public void An_id_carries_the_clock_time_the_role_and_the_epoch()
    {
        var time = new ManualTimeProvider();
        var ids = new SstIdGenerator(SstIdRole.Compactor, 0x1_2345, time, new Random(7));
        var id = ids.Next();

        Assert.That((ulong)(id.Value >> 80), Is.EqualTo((ulong)time.GetUtcNow().ToUnixTimeMilliseconds()), "the 48-bit time");
        Assert.That((byte)(id.Value >> 72), Is.EqualTo((byte)SstIdRole.Compactor), "the role byte");
        Assert.That((ushort)(id.Value >> 56), Is.EqualTo((ushort)0x2345), "the low 16 bits of the epoch");
    }

    [Test]
    public void Ids_sort_by_the_time_they_were_minted()
    {
        var time = new ManualTimeProvider();
        var ids = new SstIdGenerator(SstIdRole.Writer, 3, time, new Random(11));
        var earlier = ids.Next();
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(ids.Next(), Is.GreaterThan(earlier));
    }

    [Test]
    public void A_writer_and_a_compactor_or_two_epochs_with_the_same_seed_and_clock_never_collide()
    {
        const int seed = 42;
        var time = new ManualTimeProvider();
        var minters = new[]
        {
            new SstIdGenerator(SstIdRole.Writer, 5, time, new Random(seed)),
            new SstIdGenerator(SstIdRole.Compactor, 5, time, new Random(seed)),
            new SstIdGenerator(SstIdRole.Writer, 6, time, new Random(seed)),
        };
        var seen = new HashSet<SstId>();
        for (var i = 0; i < 1000; i++)
        {
            foreach (var minter in minters)
            {
                Assert.That(seen.Add(minter.Next()), Is.True, $"seed {seed}: id {i} of {minter.Role} epoch {minter.Epoch} was minted before");
            }
        }
    }

    [Test]
    public void The_same_seed_and_clock_mint_the_same_ids()
    {
        var a = new SstIdGenerator(SstIdRole.Writer, 9, new ManualTimeProvider(), new Random(5));
        var b = new SstIdGenerator(SstIdRole.Writer, 9, new ManualTimeProvider(), new Random(5));
        Assert.That(Enumerable.Range(0, 10).Select(_ => a.Next()), Is.EqualTo(Enumerable.Range(0, 10).Select(_ => b.Next())));
    }
}
