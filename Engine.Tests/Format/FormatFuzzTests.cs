using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Format;

/// <summary>Corruption fuzzing of the WAL object and manifest decoders; see <see cref="Fuzz"/>.</summary>
public sealed class FormatFuzzTests
{
    private const string WalPath = "wal/00000000000000000009.sst";
    private const string ManifestPath = "manifest/00000000000000000009.manifest";

    [Test]
    public void Wal_objects()
    {
        var batches = WalObjectCodecTests.SampleBatches(new Random(1), 8);
        var valid = WalObjectWriter.Encode(batches);
        Fuzz.Run("wal object", TestSeeds.Get(201), random => Fuzz.Mutate(random, valid), bytes =>
        {
            var decoded = WalObjectCodec.Decode(bytes, WalPath);
            Fuzz.Expect(bytes.Length == 0 ? decoded.IsFence : decoded.Batches.Select(b => b.Rows.ToList()).SequenceEqual(batches, ListComparer.Instance), "batches differ");
        });
    }

    [Test]
    public void Wal_batches_behind_a_valid_checksum()
    {
        var batch = WalObjectCodecTests.SampleBatches(new Random(2), 1)[0];
        var one = WalObjectWriter.Encode([batch]);
        var payload = one[(WalObjectCodec.HeaderLength + WalObjectCodec.BatchHeaderLength)..^WalObjectCodec.TrailerLength];
        Fuzz.Run("wal batch (checksum fixed)", TestSeeds.Get(202), random =>
        {
            var (mutated, description) = Fuzz.Mutate(random, payload);
            var framed = new byte[WalObjectCodec.HeaderLength + WalObjectCodec.BatchHeaderLength + mutated.Length + WalObjectCodec.TrailerLength];
            one.AsSpan(0, WalObjectCodec.HeaderLength).CopyTo(framed);
            BinaryPrimitives.WriteUInt32LittleEndian(framed.AsSpan(8), (uint)mutated.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(framed.AsSpan(12), Crc32C.Compute(mutated));
            mutated.CopyTo(framed, 16);
            one.AsSpan(one.Length - WalObjectCodec.TrailerLength).CopyTo(framed.AsSpan(framed.Length - WalObjectCodec.TrailerLength));
            return (framed, description);
        }, bytes => WalObjectCodec.Decode(bytes, WalPath));
    }

    [Test]
    public void Manifests()
    {
        var manifest = ManifestCodecTests.Sample(new Random(3));
        var valid = ManifestCodec.Encode(manifest);
        Fuzz.Run("manifest", TestSeeds.Get(203), random => Fuzz.Mutate(random, valid), bytes =>
            Fuzz.Expect(ManifestCodec.Decode(bytes, ManifestPath).Equals(manifest), "manifest differs"));
    }

    [Test]
    public void Manifests_behind_a_valid_checksum()
    {
        var valid = ManifestCodec.Encode(ManifestCodecTests.Sample(new Random(4)));
        Fuzz.Run("manifest (checksum fixed)", TestSeeds.Get(204), random =>
        {
            var (mutated, description) = Fuzz.Mutate(random, valid[..^4]);
            var fixedUp = new byte[mutated.Length + 4];
            mutated.CopyTo(fixedUp, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(fixedUp.AsSpan(mutated.Length), Crc32C.Compute(mutated));
            return (fixedUp, description);
        }, bytes => ManifestCodec.Decode(bytes, ManifestPath));
    }

    private sealed class ListComparer : IEqualityComparer<List<RowEntry>>
    {
        public static ListComparer Instance { get; } = new();

        public bool Equals(List<RowEntry>? x, List<RowEntry>? y) => x!.SequenceEqual(y!);

        public int GetHashCode(List<RowEntry> obj) => obj.Count;
    }
}
