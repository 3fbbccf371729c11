using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Format;

public sealed class ManifestCodecTests
{
    private const string Path = "manifest/00000000000000000003.manifest";

    internal static SstHandle Handle(Random random, byte firstKey, byte lastKey)
    {
        var randomBytes = new byte[10];
        random.NextBytes(randomBytes);
        return new SstHandle(SstId.Create(1_700_000_000_000 + random.Next(1000), randomBytes), random.Next(100, 1 << 20), [firstKey, 1], [lastKey, 2], random.Next(1, 1000));
    }

    internal static DbManifest Sample(Random random) => new(
        WriterEpoch: 7,
        CompactorEpoch: 3,
        ReplayAfterWalId: 41,
        NextWalId: 45,
        LastL0Sequence: 123_456,
        L0: [Handle(random, 5, 9), Handle(random, 1, 200)],
        SortedRuns:
        [
            new SortedRun(2, [Handle(random, 0, 10), Handle(random, 11, 20)]),
            new SortedRun(5, [Handle(random, 3, 250)]),
        ],
        Checkpoints:
        [
            new Checkpoint(new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"), 40, 1_700_000_000_000, 1_700_000_600_000, "nightly"),
            new Checkpoint(new Guid("7c9e6679-7425-40de-944b-e07fc1f90ae7"), 44, 1_700_000_100_000, null, null),
        ]);

    [Test]
    public void Manifests_round_trip()
    {
        var seed = TestSeeds.Get(11);
        var manifest = Sample(new Random(seed));
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(manifest), Path), Is.EqualTo(manifest), $"seed={seed}");
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(DbManifest.Empty), Path), Is.EqualTo(DbManifest.Empty));
    }

    [Test]
    public void A_newer_version_is_rejected_naming_both_versions()
    {
        var bytes = ManifestCodec.Encode(DbManifest.Empty);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 2);
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("unsupported manifest format version 2").And.Contain("versions 1 to 1").And.Contain(Path));
    }

    [Test]
    public void A_checksum_mismatch_names_the_object()
    {
        var bytes = ManifestCodec.Encode(Sample(new Random(1)));
        bytes[20] ^= 1;
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That((error.Kind, error.Message), Is.EqualTo((ErrorKind.Data, error.Message)));
        Assert.That(error.Message, Does.Contain("checksum mismatch").And.Contain(Path));
    }

    [Test]
    public void Invariants_are_enforced_on_encode_and_decode()
    {
        var random = new Random(5);
        var sample = Sample(random);
        var broken = new[]
        {
            sample with { NextWalId = sample.ReplayAfterWalId },
            sample with { L0 = [sample.L0[0], sample.L0[0]] },
            sample with { L0 = [sample.SortedRuns[0].Ssts[0]] },
            sample with { SortedRuns = [sample.SortedRuns[1], sample.SortedRuns[0]] },
            sample with { SortedRuns = [new SortedRun(1, [Handle(random, 0, 10), Handle(random, 10, 20)])] },
            sample with { SortedRuns = [new SortedRun(1, [])] },
            sample with { WriterEpoch = ulong.MaxValue },
            sample with { Checkpoints = [sample.Checkpoints[0], sample.Checkpoints[0]] },
        };
        foreach (var manifest in broken)
        {
            var encodeError = Assert.Throws<SlateSharpException>(() => ManifestCodec.Encode(manifest))!;
            Assert.That(encodeError.Kind, Is.EqualTo(ErrorKind.Internal), encodeError.Message);
            Assert.That(ManifestInvariants.FindViolation(manifest), Is.Not.Null);
        }

        // Bypass the encoder's check to prove the decoder enforces the same rules.
        var bytes = ManifestCodec.Encode(sample with { NextWalId = 100 });
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8 + 24), 41);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        var decodeError = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(decodeError.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(decodeError.Message, Does.Contain("next wal id"));
    }
}
