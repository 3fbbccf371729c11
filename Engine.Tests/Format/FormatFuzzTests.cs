using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Format;

/// <summary>
/// Corruption fuzzing of the WAL object and manifest decoders; see <see cref="Fuzz"/>. An unchanged input must decode
/// to the value it encodes; any other input that decodes must give a value that re-encodes (in its own version and
/// kind) to bytes that decode to the same value again, byte-stable from then on.
/// </summary>
public sealed class FormatFuzzTests
{
    private const string WalPath = "wal/00000000000000000009.sst";
    private const string ManifestPath = "manifest/00000000000000000009.manifest";

    private static readonly List<List<RowEntry>> Batches = WalObjectCodecTests.SampleBatches(new Random(1), 8);

    /// <summary><see cref="Batches"/> with range deletes between them, for the version 3 base.</summary>
    private static readonly List<List<RowEntry>> V3Batches =
    [
        .. Batches.Take(4),
        [RowEntry.RangeDelete("b"u8.ToArray(), "d"u8.ToArray(), 104)],
        .. Batches.Skip(4),
        [RowEntry.RangeDelete(new byte[] { 0x00 }, new byte[] { 0x00, 0x00 }, 109)],
    ];

    [Test]
    public void Wal_objects()
    {
        var v3 = WalObjectWriter.Encode(V3Batches, writerEpoch: 7);
        var v2 = WalTestFormat.EncodeV2(Batches, writerEpoch: 7);
        var v1 = WalTestFormat.EncodeV1(Batches);
        var fence = WalObjectCodec.EncodeFence(8);
        byte[][] bases = [v3, v2, v1, fence];
        Fuzz.Run("wal object", TestSeeds.Get(201), random => Fuzz.MutateMaybeRepaired(random, bases[random.Next(bases.Length)], WalTestFormat.Repair), bytes =>
        {
            if (bytes.Length == 0)
            {
                Fuzz.Expect(WalObjectCodec.Decode(bytes, WalPath, zeroByteIsFence: true) == WalObject.V1Fence, "zero bytes where v1 fences are allowed");
            }

            var decoded = WalObjectCodec.Decode(bytes, WalPath, zeroByteIsFence: false);
            Fuzz.Expect(decoded.FormatVersion >= WalObjectCodec.RangeDeleteVersion || decoded.Batches.All(b => b.Rows.All(r => r.Kind != RowKind.RangeDelete)), "a range delete in a version 1 or 2 object");
            Fuzz.Expect(decoded.Batches.All(b => b.Rows.All(r => r.Kind != RowKind.RangeDelete || (r.ExpireAt is null && r.Value.Length is > 0 and <= RowEntry.MaxKeyLength && KeyComparer.CompareKeys(r.Value.Span, r.Key.Span) > 0))), "a malformed range delete");
            if (bytes.AsSpan().SequenceEqual(v3))
            {
                Fuzz.Expect(Describe(decoded) == Describe(WalObject.Data(3, 7, [.. V3Batches.Select(b => new WalBatch(b))])), "v3 object differs");
            }
            else if (bytes.AsSpan().SequenceEqual(v2))
            {
                Fuzz.Expect(Describe(decoded) == Describe(WalObject.Data(2, 7, [.. Batches.Select(b => new WalBatch(b))])), "v2 object differs");
            }
            else if (bytes.AsSpan().SequenceEqual(v1))
            {
                Fuzz.Expect(Describe(decoded) == Describe(WalObject.Data(1, null, [.. Batches.Select(b => new WalBatch(b))])), "v1 object differs");
            }
            else if (bytes.AsSpan().SequenceEqual(fence))
            {
                Fuzz.Expect(Describe(decoded) == Describe(WalObject.Fence(8)), "fence differs");
            }

            CheckWalRoundTrip(decoded);
        }, minDecodedShare: 0.15);
    }

    [Test]
    public void Wal_fence_records()
    {
        var fence = WalObjectCodec.EncodeFence(0x0000_7777_0000_0001);
        Fuzz.Run("wal fence record", TestSeeds.Get(205), random => Fuzz.MutateMaybeRepaired(random, fence, WalTestFormat.Repair), bytes =>
        {
            var decoded = WalObjectCodec.Decode(bytes, WalPath, zeroByteIsFence: false);
            Fuzz.Expect(decoded.Kind == WalObjectKind.Fence || bytes.Length != WalObjectCodec.FenceLength, "a 20-byte mutated fence decoded as data");

            // Fence records have one encoding per epoch: whatever decodes is exactly what the encoder writes.
            Fuzz.Expect(decoded.Kind != WalObjectKind.Fence || WalObjectCodec.EncodeFence(decoded.WriterEpoch!.Value).AsSpan().SequenceEqual(bytes), "fence is not canonical");
            CheckWalRoundTrip(decoded);
        }, minDecodedShare: 0.10);
    }

    [Test]
    public void Wal_batches_behind_a_valid_checksum()
    {
        var batch = WalObjectCodecTests.SampleBatches(new Random(2), 1)[0];
        var one = WalObjectWriter.Encode([batch], writerEpoch: 3);
        var prefix = WalObjectCodec.HeaderLength + WalObjectCodec.BatchHeaderLength;
        var payload = one[prefix..^WalObjectCodec.TrailerLength];
        Fuzz.Run("wal batch (checksum fixed)", TestSeeds.Get(202), random =>
        {
            var (mutated, description) = Fuzz.MutateAny(random, payload);
            var framed = new byte[prefix + mutated.Length + WalObjectCodec.TrailerLength];
            one.AsSpan(0, WalObjectCodec.HeaderLength).CopyTo(framed);
            BinaryPrimitives.WriteUInt32LittleEndian(framed.AsSpan(WalObjectCodec.HeaderLength), (uint)mutated.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(framed.AsSpan(WalObjectCodec.HeaderLength + 4), Crc32C.Compute(mutated));
            mutated.CopyTo(framed, prefix);
            one.AsSpan(one.Length - WalObjectCodec.TrailerLength).CopyTo(framed.AsSpan(framed.Length - WalObjectCodec.TrailerLength));
            return (framed, description);
        }, bytes =>
        {
            var decoded = WalObjectCodec.Decode(bytes, WalPath, zeroByteIsFence: false);
            Fuzz.Expect(decoded is { Kind: WalObjectKind.Data, FormatVersion: WalObjectCodec.CurrentVersion, WriterEpoch: 3 } && decoded.Batches.Count == 1, "frame fields differ");
            Fuzz.Expect(!bytes.AsSpan().SequenceEqual(one) || decoded.Batches[0].Rows.SequenceEqual(batch), "rows differ");
            CheckWalRoundTrip(decoded);
        }, minDecodedShare: 0.25);
    }

    [Test]
    public void Manifests()
    {
        var manifest = ManifestCodecTests.Sample(new Random(3)) with
        {
            WalV1FencesBelow = 44,
            UnknownExtensions = [new ManifestExtension(0x0010, [1, 2, 3, 4, 5, 6]), new ManifestExtension(0x0200, [])],
        };
        var v2 = ManifestCodec.Encode(manifest);
        var v1 = ManifestTestFormat.EncodeV1(manifest);
        byte[][] bases = [v2, v1];
        Fuzz.Run("manifest", TestSeeds.Get(203), random => Fuzz.MutateMaybeRepaired(random, bases[random.Next(bases.Length)], ManifestTestFormat.Repair), bytes =>
        {
            var decoded = ManifestCodec.Decode(bytes, ManifestPath);
            Fuzz.Expect(!bytes.AsSpan().SequenceEqual(v2) || decoded.Equals(manifest), "v2 manifest differs");
            Fuzz.Expect(!bytes.AsSpan().SequenceEqual(v1) || decoded.Equals(manifest with { WalV1FencesBelow = ulong.MaxValue, UnknownExtensions = [] }), "v1 manifest differs");
            CheckManifest(bytes, decoded);
        }, minDecodedShare: 0.15);
    }

    [Test]
    public void Manifests_behind_a_valid_checksum()
    {
        var valid = ManifestCodec.Encode(ManifestCodecTests.Sample(new Random(4)) with { WalV1FencesBelow = 40 });
        Fuzz.Run("manifest (checksum fixed)", TestSeeds.Get(204), random =>
        {
            var (mutated, description) = Fuzz.MutateAny(random, valid);
            return (ManifestTestFormat.Repair(mutated), description);
        }, bytes => CheckManifest(bytes, ManifestCodec.Decode(bytes, ManifestPath)), minDecodedShare: 0.25);
    }

    [Test]
    public void Manifest_extension_areas_behind_a_valid_checksum()
    {
        // Mutate only the extension area of a version 2 manifest: count, tags, lengths and values.
        var manifest = ManifestCodecTests.Sample(new Random(6));
        var valid = ManifestTestFormat.EncodeWithExtensions(
            manifest, (0x0001, [7]), (0x0100, [1, 2, 3]), (0x7FFF, []), (0x8001, ManifestTestFormat.U64(45)));
        var fieldsLength = ManifestTestFormat.EncodeWithExtensions(manifest).Length - 8;
        var fields = valid[..fieldsLength];
        var area = valid[fieldsLength..^4];
        Fuzz.Run("manifest extension area", TestSeeds.Get(206), random =>
        {
            var (mutated, description) = Fuzz.MutateAny(random, area);
            return (ManifestTestFormat.Repair([.. fields, .. mutated, 0, 0, 0, 0]), description);
        }, bytes =>
        {
            var decoded = ManifestCodec.Decode(bytes, ManifestPath);
            Fuzz.Expect(decoded with { WalV1FencesBelow = 0, UnknownExtensions = [] } == manifest, "an extension changed a positional field");
            CheckManifest(bytes, decoded);
        }, minDecodedShare: 0.10);
    }

    [Test]
    public void A_fuzz_run_fails_for_a_decoder_that_rejects_everything_or_nothing()
    {
        var valid = WalObjectWriter.Encode(Batches, writerEpoch: 7);
        (byte[], string) MakeCase(Random random) => Fuzz.MutateMaybeRepaired(random, valid, WalTestFormat.Repair);

        var rejectsAll = Assert.Throws<AssertionException>(() =>
            Fuzz.Run("meta: rejects everything (this run is meant to fail)", 1, MakeCase, bytes => throw Errors.Data(WalPath, 0, "no"), minDecodedShare: 0.05, cases: 1000))!;
        Assert.That(rejectsAll.Message, Does.Contain("only 0 of 1000 cases decoded"));
        var acceptsAll = Assert.Throws<AssertionException>(() =>
            Fuzz.Run("meta: accepts everything (this run is meant to fail)", 1, MakeCase, bytes => { }, minDecodedShare: 0.05, cases: 1000))!;
        Assert.That(acceptsAll.Message, Does.Contain("only 0 of 1000 cases were rejected"));
        var wrong = Assert.Throws<AssertionException>(() =>
            Fuzz.Run("meta: always wrong (this run is meant to fail)", 1, MakeCase, bytes => Fuzz.Expect(false, "always wrong"), minDecodedShare: 0.05, cases: 1000))!;
        Assert.That(wrong.Message, Does.Contain("decoded without error but wrong: always wrong").And.Contain("seed=1 case=0"));
        Assert.That(() => Fuzz.Run("meta: no share", 1, MakeCase, bytes => { }, minDecodedShare: 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    /// <summary>Re-encodes a decoded WAL object in its own version and kind and checks the encoding is a fixed point.</summary>
    private static void CheckWalRoundTrip(WalObject decoded)
    {
        Fuzz.Expect(decoded.Kind == WalObjectKind.Data || decoded.Batches.Count == 0, "a fence with batches");
        Fuzz.Expect((decoded.FormatVersion == 1) == (decoded.WriterEpoch is null), "the epoch is present exactly from version 2 on");
        var encoded = WalTestFormat.Reencode(decoded);
        var again = WalObjectCodec.Decode(encoded, WalPath, zeroByteIsFence: true);
        Fuzz.Expect(Describe(again) == Describe(decoded), "re-encoding does not decode to the same object");
        Fuzz.Expect(WalTestFormat.Reencode(again).AsSpan().SequenceEqual(encoded), "re-encoding is not byte-stable");
    }

    /// <summary>Checks what any decoded manifest must satisfy, and that re-encoding it is a fixed point.</summary>
    private static void CheckManifest(byte[] bytes, DbManifest decoded)
    {
        var version = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4));
        Fuzz.Expect(version != 1 || (decoded.WalV1FencesBelow == ulong.MaxValue && decoded.UnknownExtensions.Count == 0), "v1 manifest read with extensions");
        Fuzz.Expect(decoded.UnknownExtensions.All(e => (e.Tag & ManifestCodec.CriticalTagBit) == 0), "an unknown critical tag was accepted");
        Fuzz.Expect(ManifestInvariants.FindViolation(decoded) is null, "decoded manifest breaks an invariant");
        var encoded = ManifestCodec.Encode(decoded);
        var again = ManifestCodec.Decode(encoded, ManifestPath);
        Fuzz.Expect(again.Equals(decoded), "re-encoding does not decode to the same manifest");
        Fuzz.Expect(ManifestCodec.Encode(again).AsSpan().SequenceEqual(encoded), "re-encoding is not byte-stable");
        Fuzz.Expect(version != 2 || decoded.WalV1FencesBelow == 0 || encoded.AsSpan().SequenceEqual(bytes), "a canonical v2 manifest does not re-encode to its own bytes");
    }

    /// <summary>A comparable rendering of a decoded object: kind, version, epoch and every row.</summary>
    private static string Describe(WalObject o) =>
        $"{o.Kind} v{o.FormatVersion} epoch={o.WriterEpoch?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} " +
        string.Join(" | ", o.Batches.Select(b => string.Join(",", b.Rows.Select(r =>
            $"{r.Kind}:{r.Sequence}:{r.ExpireAt}:{Convert.ToHexString(r.Key.Span)}={Convert.ToHexString(r.Value.Span)}"))));
}
