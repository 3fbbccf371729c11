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
            new SortedRun(5, [Handle(random, 0, 10), Handle(random, 11, 20)]),
            new SortedRun(2, [Handle(random, 3, 250)]),
        ],
        Checkpoints:
        [
            new Checkpoint(new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"), 40, 1_700_000_000_000, 1_700_000_600_000, "nightly"),
            new Checkpoint(new Guid("7c9e6679-7425-40de-944b-e07fc1f90ae7"), 44, 1_700_000_100_000, null, null),
        ]);

    private static readonly byte[] UnknownValue = [0xDE, 0xAD, 0xBE, 0xEF, 0x00];

    [Test]
    public void Manifests_round_trip()
    {
        var seed = TestSeeds.Get(11);
        var manifest = Sample(new Random(seed));
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(manifest), Path), Is.EqualTo(manifest), $"seed={seed}");
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(DbManifest.Empty), Path), Is.EqualTo(DbManifest.Empty));
        var extended = manifest with { WalV1FencesBelow = 46, UnknownExtensions = [new ManifestExtension(0x0007, UnknownValue)] };
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(extended), Path), Is.EqualTo(extended));
        Assert.That(extended, Is.Not.EqualTo(manifest), "equality covers the extensions");
    }

    [Test]
    public void The_current_version_appends_an_extension_area_that_is_empty_for_a_new_database()
    {
        var bytes = ManifestCodec.Encode(DbManifest.Empty);
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)), Is.EqualTo(3));
        Assert.That(bytes, Is.EqualTo(ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty)), "wal_v1_fences_below = 0 is not stored");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 8)), Is.EqualTo(0u), "extension count");
        Assert.That(DbManifest.Empty.WalV1FencesBelow, Is.EqualTo(0UL));
    }

    [Test]
    public void Wal_v1_fences_below_is_stored_as_critical_tag_8001_after_the_unknown_tags()
    {
        var manifest = DbManifest.Empty with { WalV1FencesBelow = 0x1234, UnknownExtensions = [new ManifestExtension(0x0002, UnknownValue)] };
        var expected = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty, (0x0002, UnknownValue), (0x8001, ManifestTestFormat.U64(0x1234)));
        Assert.That(ManifestCodec.Encode(manifest), Is.EqualTo(expected));
        Assert.That(ManifestCodec.WalV1FencesBelowTag, Is.EqualTo(0x8001));
    }

    [Test]
    public void A_version_1_manifest_reads_as_written_by_v1_writers_whose_zero_byte_objects_are_fences()
    {
        var manifest = Sample(new Random(12));
        var decoded = ManifestCodec.Decode(ManifestTestFormat.EncodeV1(manifest), Path);
        Assert.That(decoded.WalV1FencesBelow, Is.EqualTo(ulong.MaxValue));
        Assert.That(decoded, Is.EqualTo(manifest with { WalV1FencesBelow = ulong.MaxValue }));

        // Rewritten by this build, it keeps saying so.
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(decoded), Path).WalV1FencesBelow, Is.EqualTo(ulong.MaxValue));
    }

    [Test]
    public void Unknown_non_critical_tags_survive_a_decode_change_encode_round_trip()
    {
        var stored = ManifestTestFormat.EncodeWithExtensions(
            Sample(new Random(13)), (0x0001, [1, 2, 3]), (0x00FF, []), (0x7FFF, UnknownValue), (0x8001, ManifestTestFormat.U64(50)));
        var decoded = ManifestCodec.Decode(stored, Path);
        Assert.That(decoded.WalV1FencesBelow, Is.EqualTo(50UL));
        Assert.That(decoded.UnknownExtensions, Is.EqualTo(new[]
        {
            new ManifestExtension(0x0001, [1, 2, 3]), new ManifestExtension(0x00FF, []), new ManifestExtension(0x7FFF, UnknownValue),
        }));

        var changed = decoded with { LastL0Sequence = decoded.LastL0Sequence + 1, NextWalId = decoded.NextWalId + 3 };
        var rewritten = ManifestCodec.Decode(ManifestCodec.Encode(changed), Path);
        Assert.That(rewritten.UnknownExtensions, Is.EqualTo(decoded.UnknownExtensions));
        Assert.That(rewritten, Is.EqualTo(changed));
    }

    [Test]
    public void An_unknown_critical_tag_is_refused_naming_the_tag()
    {
        var bytes = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty, (0x0003, [9]), (0x8005, [1, 2]));
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("tag=0x8005").And.Contain("critical and unknown").And.Contain($"path={Path}"));
    }

    [Test]
    public void A_zero_value_for_wal_v1_fences_below_reads_like_an_absent_tag()
    {
        var bytes = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty, (0x8001, ManifestTestFormat.U64(0)));
        Assert.That(ManifestCodec.Decode(bytes, Path), Is.EqualTo(DbManifest.Empty));
    }

    [TestCase(new ushort[] { 0x0002, 0x0001 }, "ascending")]
    [TestCase(new ushort[] { 0x0004, 0x0004 }, "unique")]
    [TestCase(new ushort[] { 0x0000 }, "non-zero")]
    [TestCase(new ushort[] { 0x8000 }, "non-zero")]
    public void Extension_tags_must_be_non_zero_ascending_and_unique(ushort[] tags, string rule)
    {
        var bytes = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty, [.. tags.Select(t => (t, new byte[] { 1 }))]);
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That((error.Kind, error.Message.Contains(rule, StringComparison.Ordinal)), Is.EqualTo((ErrorKind.Data, true)), error.Message);
    }

    [TestCase(7)]
    [TestCase(9)]
    [TestCase(0)]
    public void A_known_tag_of_the_wrong_length_is_a_data_error(int length)
    {
        var bytes = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty, (0x8001, new byte[length]));
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(error.Message, Does.Contain("wal_v1_fences_below must be 8 bytes"));
    }

    [Test]
    public void An_extension_running_past_the_checksum_is_a_data_error()
    {
        var bytes = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty, (0x0001, [1, 2, 3, 4]));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4 - 4 - 4), 5);
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(ManifestTestFormat.Repair(bytes), Path))!;
        Assert.That(error.Message, Does.Contain("runs past the checksum"));
    }

    [Test]
    public void Unknown_extensions_that_could_not_have_been_read_are_refused_when_encoding()
    {
        ManifestExtension[][] broken =
        [
            [new(0x8002, [1])],
            [new(ManifestCodec.WalV1FencesBelowTag, ManifestTestFormat.U64(3))],
            [new(0x0000, [1])],
            [new(0x0002, [1]), new(0x0001, [1])],
            [new(0x0002, [1]), new(0x0002, [2])],
        ];
        foreach (var extensions in broken)
        {
            var manifest = DbManifest.Empty with { UnknownExtensions = extensions };
            var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Encode(manifest))!;
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Internal), error.Message);
            Assert.That(error.Message, Does.Contain("extension"));
        }
    }

    [Test]
    public void A_newer_version_is_rejected_naming_both_versions()
    {
        var bytes = ManifestCodec.Encode(DbManifest.Empty);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 4);
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("unsupported manifest format version 4").And.Contain("versions 1 to 3").And.Contain(Path));
    }

    [Test]
    public void A_version_2_manifest_with_run_ids_ascending_reads_newest_highest_and_one_descending_is_corrupt()
    {
        var manifest = Sample(new Random(13));
        Assert.That(manifest.SortedRuns.Select(r => r.Id), Is.EqualTo(new uint[] { 5, 2 }));
        var decoded = ManifestCodec.Decode(ManifestTestFormat.EncodeV2(manifest), Path);
        Assert.That(decoded.SortedRuns.Select(r => r.Id), Is.EqualTo(new uint[] { 5, 2 }));
        Assert.That(decoded.SortedRuns.Select(r => r.Ssts), Is.EqualTo(manifest.SortedRuns.Select(r => r.Ssts)), "the list order is kept");

        // A version 2 file whose ids descend was never written by a version 2 writer.
        var v3Order = ManifestCodec.Encode(manifest);
        BinaryPrimitives.WriteUInt16LittleEndian(v3Order.AsSpan(4), 2);
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(ManifestTestFormat.Repair(v3Order), Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("must ascend").And.Contain(Path));
    }

    [Test]
    public void A_checksum_mismatch_names_the_object()
    {
        var bytes = ManifestCodec.Encode(Sample(new Random(1)));
        bytes[20] ^= 1;
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
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

    private static byte[] K(string text) => System.Text.Encoding.ASCII.GetBytes(text);

    private static readonly DbManifest WithTombstones = DbManifest.Empty with
    {
        LastL0Sequence = 50,
        RangeTombstones = [new RangeTombstone(K("a"), K("c"), 7), new RangeTombstone(K("b"), K("bb"), 9), new RangeTombstone([0x00], [0xFF], 50)],
    };

    [Test]
    public void Range_tombstones_are_stored_as_critical_tag_8002_after_wal_v1_fences_below()
    {
        var manifest = WithTombstones with { WalV1FencesBelow = 3, UnknownExtensions = [new ManifestExtension(0x0009, UnknownValue)] };
        var expected = ManifestTestFormat.EncodeWithExtensions(
            manifest, (0x0009, UnknownValue), (0x8001, ManifestTestFormat.U64(3)),
            (0x8002, ManifestTestFormat.RangeTombstones((7, K("a"), K("c")), (9, K("b"), K("bb")), (50, [0x00], [0xFF]))));
        var bytes = ManifestCodec.Encode(manifest);
        Assert.That(bytes, Is.EqualTo(expected));
        Assert.That(ManifestCodec.RangeTombstonesTag, Is.EqualTo(0x8002));
        Assert.That(ManifestCodec.IsKnownTag(0x8002), Is.True);
        Assert.That(ManifestCodec.Decode(bytes, Path), Is.EqualTo(manifest));
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(WithTombstones), Path), Is.EqualTo(WithTombstones));
    }

    [Test]
    public void An_empty_tombstone_list_is_not_stored_so_older_manifests_keep_their_bytes()
    {
        var sample = Sample(new Random(21));
        Assert.That(ManifestCodec.Encode(sample with { RangeTombstones = [] }), Is.EqualTo(ManifestTestFormat.EncodeWithExtensions(sample)));

        // An explicit empty list (count 0) reads like an absent tag, as wal_v1_fences_below = 0 does.
        var explicitEmpty = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty, (0x8002, ManifestTestFormat.RangeTombstones()));
        Assert.That(ManifestCodec.Decode(explicitEmpty, Path), Is.EqualTo(DbManifest.Empty));
    }

    [Test]
    public void Tombstones_at_the_key_length_limits_round_trip()
    {
        var longest = new byte[ushort.MaxValue];
        var manifest = DbManifest.Empty with
        {
            LastL0Sequence = 2,
            RangeTombstones = [new RangeTombstone([0x00], longest, 1), new RangeTombstone(longest, [0x01], 2)],
        };
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(manifest), Path), Is.EqualTo(manifest));
    }

    [TestCase("count past the value", "count")]
    [TestCase("truncated value", "truncated")]
    [TestCase("bytes after the tombstones", "1 unexpected bytes after the tombstones (count=1)")]
    [TestCase("sequences equal", "sequences must strictly ascend")]
    [TestCase("sequences descend", "sequences must strictly ascend")]
    [TestCase("start equals end", "start key does not sort before the end key")]
    [TestCase("start after end", "start key does not sort before the end key")]
    [TestCase("empty start", "empty start key")]
    [TestCase("empty end", "empty end key")]
    [TestCase("above last_l0_sequence", "above last_l0_sequence")]
    public void A_corrupt_range_tombstones_value_is_a_data_error_naming_the_manifest(string corruption, string reason)
    {
        var one = ManifestTestFormat.RangeTombstones((5, K("a"), K("c")));
        var value = corruption switch
        {
            "count past the value" => [2, 0, 0, 0, .. one[4..]],
            "truncated value" => ManifestTestFormat.RangeTombstones((5, K("aaaa"), K("c")))[..^1],
            "bytes after the tombstones" => [.. one, 0],
            "sequences equal" => ManifestTestFormat.RangeTombstones((5, K("a"), K("c")), (5, K("d"), K("e"))),
            "sequences descend" => ManifestTestFormat.RangeTombstones((5, K("a"), K("c")), (4, K("d"), K("e"))),
            "start equals end" => ManifestTestFormat.RangeTombstones((5, K("c"), K("c"))),
            "start after end" => ManifestTestFormat.RangeTombstones((5, K("cc"), K("c"))),
            "empty start" => ManifestTestFormat.RangeTombstones((5, [], K("cc"))),
            "empty end" => ManifestTestFormat.RangeTombstones((5, K("aa"), [])),
            "above last_l0_sequence" => ManifestTestFormat.RangeTombstones((101, K("a"), K("c"))),
            _ => throw new ArgumentOutOfRangeException(nameof(corruption)),
        };
        var bytes = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty with { LastL0Sequence = 100 }, (0x8002, value));
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain(reason).And.Contain($"path={Path}"));
    }

    [TestCase((ushort)0x8004)]
    [TestCase((ushort)0x8005)]
    [TestCase((ushort)0xFFFF)]
    public void Other_critical_tags_are_still_refused_beside_range_tombstones(ushort tag)
    {
        var bytes = ManifestTestFormat.EncodeWithExtensions(
            DbManifest.Empty with { LastL0Sequence = 9 }, (0x8002, ManifestTestFormat.RangeTombstones((5, K("a"), K("c")))), (tag, [1]));
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain($"tag=0x{tag:x4}").And.Contain("critical and unknown"));
    }

    [Test]
    public void Broken_range_tombstones_are_refused_on_encode_and_their_rules_are_invariants()
    {
        var broken = new[]
        {
            WithTombstones with { RangeTombstones = [.. WithTombstones.RangeTombstones.Reverse()] },
            WithTombstones with { RangeTombstones = [new RangeTombstone(K("a"), K("c"), 7), new RangeTombstone(K("d"), K("e"), 7)] },
            WithTombstones with { LastL0Sequence = 49 },
            WithTombstones with { RangeTombstones = [new RangeTombstone(K("c"), K("c"), 7)] },
            WithTombstones with { RangeTombstones = [new RangeTombstone(K("d"), K("c"), 7)] },
            WithTombstones with { RangeTombstones = [new RangeTombstone([], K("c"), 7)] },
            WithTombstones with { RangeTombstones = [new RangeTombstone(K("a"), [], 7)] },
            WithTombstones with { RangeTombstones = [new RangeTombstone(K("a"), new byte[ushort.MaxValue + 1], 7)] },
        };
        foreach (var manifest in broken)
        {
            Assert.That(ManifestInvariants.FindViolation(manifest), Does.Contain("range tombstone"), string.Join(", ", manifest.RangeTombstones));
            var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Encode(manifest))!;
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Internal), error.Message);
        }
    }

    /// <summary>A deterministic id: minted at 1_700_000_000_000 + <paramref name="n"/> ms, so ids ascend with n.</summary>
    private static SstId Id(int n) => SstId.Create(1_700_000_000_000 + n, [.. Enumerable.Range(n, 10).Select(i => (byte)i)]);

    private static SstHandle HandleOf(SstId id, byte firstKey, byte lastKey) => new(id, 4096, [firstKey], [lastKey], 10);

    private static readonly DbManifest WithUnpublished = WithTombstones with { UnpublishedCompactionOutputs = [Id(1), Id(2), Id(3)] };

    [Test]
    public void Unpublished_compaction_outputs_are_stored_as_critical_tag_8003_after_range_tombstones()
    {
        var manifest = WithUnpublished with { WalV1FencesBelow = 3, UnknownExtensions = [new ManifestExtension(0x0009, UnknownValue)] };
        var expected = ManifestTestFormat.EncodeWithExtensions(
            manifest, (0x0009, UnknownValue), (0x8001, ManifestTestFormat.U64(3)),
            (0x8002, ManifestTestFormat.RangeTombstones((7, K("a"), K("c")), (9, K("b"), K("bb")), (50, [0x00], [0xFF]))),
            (0x8003, ManifestTestFormat.SstIds(Id(1), Id(2), Id(3))));
        var bytes = ManifestCodec.Encode(manifest);
        Assert.That(bytes, Is.EqualTo(expected));
        Assert.That(ManifestCodec.UnpublishedCompactionOutputsTag, Is.EqualTo(0x8003));
        Assert.That(ManifestCodec.IsKnownTag(0x8003), Is.True);
        Assert.That(ManifestCodec.Decode(bytes, Path), Is.EqualTo(manifest));
        Assert.That(ManifestCodec.Decode(bytes, Path).UnpublishedCompactionOutputs, Is.EqualTo(new[] { Id(1), Id(2), Id(3) }));

        // Alone, beside a manifest's published SSTs (ids of its own, distinct from these).
        var sample = Sample(new Random(31)) with { UnpublishedCompactionOutputs = [Id(4)] };
        Assert.That(ManifestCodec.Encode(sample), Is.EqualTo(ManifestTestFormat.EncodeWithExtensions(sample, (0x8003, ManifestTestFormat.SstIds(Id(4))))));
        Assert.That(ManifestCodec.Decode(ManifestCodec.Encode(sample), Path), Is.EqualTo(sample));
        Assert.That(sample, Is.Not.EqualTo(sample with { UnpublishedCompactionOutputs = [] }), "equality covers the list");
    }

    [Test]
    public void An_empty_unpublished_list_is_not_stored_so_older_manifests_keep_their_bytes()
    {
        var sample = Sample(new Random(22));
        Assert.That(ManifestCodec.Encode(sample with { UnpublishedCompactionOutputs = [] }), Is.EqualTo(ManifestTestFormat.EncodeWithExtensions(sample)));
        Assert.That(ManifestCodec.Encode(WithTombstones), Is.EqualTo(ManifestCodec.Encode(WithUnpublished with { UnpublishedCompactionOutputs = [] })));

        // An explicit empty list (count 0) reads like an absent tag.
        var explicitEmpty = ManifestTestFormat.EncodeWithExtensions(DbManifest.Empty, (0x8003, ManifestTestFormat.SstIds()));
        Assert.That(ManifestTestFormat.SstIds(), Is.EqualTo(new byte[] { 0, 0, 0, 0 }));
        Assert.That(ManifestCodec.Decode(explicitEmpty, Path), Is.EqualTo(DbManifest.Empty));
    }

    [TestCase("count past the value", "count 2 exceeds what the remaining 16 bytes can hold")]
    [TestCase("truncated id", "count 1 exceeds what the remaining 15 bytes can hold")]
    [TestCase("truncated count", "truncated")]
    [TestCase("bytes after the ids", "1 unexpected bytes after the sst ids (count=1)")]
    [TestCase("ids equal", "sst ids must strictly ascend")]
    [TestCase("ids descend", "sst ids must strictly ascend")]
    [TestCase("also in l0", "an unpublished compaction output is also referenced by l0 or a sorted run")]
    [TestCase("also in a sorted run", "an unpublished compaction output is also referenced by l0 or a sorted run")]
    public void A_corrupt_unpublished_compaction_outputs_value_is_a_data_error_naming_the_manifest(string corruption, string reason)
    {
        var one = ManifestTestFormat.SstIds(Id(1));
        var value = corruption switch
        {
            "count past the value" => [2, 0, 0, 0, .. one[4..]],
            "truncated id" => one[..^1],
            "truncated count" => one[..3],
            "bytes after the ids" => [.. one, 0],
            "ids equal" => ManifestTestFormat.SstIds(Id(1), Id(1)),
            "ids descend" => ManifestTestFormat.SstIds(Id(2), Id(1)),
            "also in l0" => ManifestTestFormat.SstIds(Id(1), Id(8)),
            "also in a sorted run" => ManifestTestFormat.SstIds(Id(9)),
            _ => throw new ArgumentOutOfRangeException(nameof(corruption)),
        };
        var manifest = DbManifest.Empty with { L0 = [HandleOf(Id(8), 1, 2)], SortedRuns = [new SortedRun(1, [HandleOf(Id(9), 1, 2)])] };
        var bytes = ManifestTestFormat.EncodeWithExtensions(manifest, (0x8003, value));
        var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Decode(bytes, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain(reason).And.Contain($"path={Path}"));
    }

    [Test]
    public void Broken_unpublished_compaction_outputs_are_refused_on_encode_and_their_rules_are_invariants()
    {
        var published = WithUnpublished with { L0 = [HandleOf(Id(10), 1, 2)], SortedRuns = [new SortedRun(1, [HandleOf(Id(11), 1, 2)])] };
        Assert.That(ManifestInvariants.FindViolation(published), Is.Null);
        var broken = new (DbManifest Manifest, string Rule)[]
        {
            (published with { UnpublishedCompactionOutputs = [Id(3), Id(2), Id(1)] }, "unpublished compaction outputs must strictly ascend"),
            (published with { UnpublishedCompactionOutputs = [Id(1), Id(2), Id(2)] }, "unpublished compaction outputs must strictly ascend"),
            (published with { UnpublishedCompactionOutputs = [Id(1), Id(10)] }, "also referenced by l0 or a sorted run"),
            (published with { UnpublishedCompactionOutputs = [Id(11)] }, "also referenced by l0 or a sorted run"),
        };
        foreach (var (manifest, rule) in broken)
        {
            Assert.That(ManifestInvariants.FindViolation(manifest), Does.Contain(rule), string.Join(", ", manifest.UnpublishedCompactionOutputs));
            var error = Assert.Throws<SlateSharpException>(() => ManifestCodec.Encode(manifest))!;
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Internal), error.Message);
            Assert.That(error.Message, Does.Contain(rule));
        }
    }
}
