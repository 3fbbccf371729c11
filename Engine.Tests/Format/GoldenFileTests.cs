using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Format;

/// <summary>
/// One stored file per format version, built from fixed seeded input: each must still decode to that input, and
/// encoding the input must reproduce it byte for byte (compressed SSTs are checked by decoding only, since another
/// zstd release may compress differently). Files of versions this build no longer writes are read-only: they are
/// decoded, compared with a test-side encoder of the old layout, and never regenerated. Regenerate after an intended
/// format change with SLATESHARP_REGENERATE_GOLDEN=1 (docs/format/README.md); that writes into
/// Engine.Tests/TestData/format in the source tree.
/// </summary>
public sealed class GoldenFileTests
{
    private const int Seed = 20_261_122;

    private static bool Regenerate => Environment.GetEnvironmentVariable("SLATESHARP_REGENERATE_GOLDEN") == "1";

    internal static List<RowEntry> SstRows()
    {
        // Random keys, kinds and expiry; values repeat a short pattern so compressed blocks really are compressed.
        var random = new Random(Seed);
        return TestRows.Random(random, 150, 3, maxKeyLength: 16, maxValueLength: 48)
            .Select(r => new RowEntry(r.Key, Enumerable.Range(0, r.Value.Length).Select(i => (byte)('a' + (i % 5))).ToArray(), r.Sequence, r.Kind, r.ExpireAt))
            .ToList();
    }

    internal static List<List<RowEntry>> WalBatches() => WalObjectCodecTests.SampleBatches(new Random(Seed + 1), 6);

    /// <summary>
    /// The rows of the version 3 WAL golden: one write per batch, as the engine writes them: puts, a put with expiry, a
    /// delete, a merge operand and a range delete of [b, d).
    /// </summary>
    internal static List<List<RowEntry>> WalV3Batches()
    {
        static byte[] B(string text) => System.Text.Encoding.ASCII.GetBytes(text);
        return
        [
            [RowEntry.Put(B("apple"), B("red"), 200), RowEntry.Put(B("banana"), B("yellow"), 200)],
            [RowEntry.Put(B("cherry"), B("dark"), 201, expireAt: 1_763_769_600_000)],
            [RowEntry.Delete(B("apple"), 202)],
            [new RowEntry(B("counter"), B("+1"), 203, RowKind.Merge)],
            [RowEntry.RangeDelete(B("b"), B("d"), 204)],
            [RowEntry.Put(B("cat"), B("after the range delete"), 205)],
        ];
    }

    /// <summary>The epoch stamped into the version 2 and 3 WAL golden data objects.</summary>
    internal const ulong WalWriterEpoch = 12;

    /// <summary>The epoch of the writer that placed the version 2 golden fence record.</summary>
    internal const ulong FenceWriterEpoch = 13;

    /// <summary>
    /// The version 2 and 3 golden manifest: the version 1 content, wal_v1_fences_below and a tag this build does not
    /// know. (The version 1 and 2 files store the run ids ascending, 3 then 7; read, the newest run has id 7.)
    /// </summary>
    internal static DbManifest ManifestV2() => Manifest() with
    {
        WalV1FencesBelow = 101,
        UnknownExtensions = [new ManifestExtension(0x0042, System.Text.Encoding.ASCII.GetBytes("from a newer build"))],
    };

    /// <summary>
    /// The version 3 golden with range tombstones: <see cref="ManifestV2"/> plus three flushed range deletes, so the
    /// extension area holds 0x0042, 0x8001 and 0x8002 (range_tombstones).
    /// </summary>
    internal static DbManifest ManifestWithRangeTombstones() => ManifestV2() with
    {
        RangeTombstones =
        [
            new RangeTombstone(System.Text.Encoding.ASCII.GetBytes("b"), System.Text.Encoding.ASCII.GetBytes("d"), 900_000),
            new RangeTombstone(System.Text.Encoding.ASCII.GetBytes("a"), System.Text.Encoding.ASCII.GetBytes("zz"), 987_000),
            new RangeTombstone([0x00], [0xFF, 0xFF], 987_654),
        ],
    };

    /// <summary>
    /// The version 3 golden with unpublished compaction outputs: <see cref="ManifestWithRangeTombstones"/> plus two ids
    /// a running compaction job has minted, built like the handles' ids (n = 10 and 11, distinct from every SST in the
    /// manifest), so the extension area holds 0x0042, 0x8001, 0x8002 and 0x8003 (unpublished_compaction_outputs).
    /// </summary>
    internal static DbManifest ManifestWithUnpublishedOutputs() => ManifestWithRangeTombstones() with
    {
        UnpublishedCompactionOutputs = [GoldenSstId(10), GoldenSstId(11)],
    };

    /// <summary>The id the golden manifests give SST <paramref name="n"/>: minted at 1_763_769_600_000 + n ms, random bytes n to n + 9.</summary>
    internal static SstId GoldenSstId(int n) => SstId.Create(1_763_769_600_000 + n, [.. Enumerable.Range(n, 10).Select(i => (byte)i)]);

    internal static DbManifest Manifest()
    {
        static SstHandle Handle(int n, string first, string last) => new(
            SstId.Create(1_763_769_600_000 + n, [.. Enumerable.Range(n, 10).Select(i => (byte)i)]), 4096L * n, System.Text.Encoding.ASCII.GetBytes(first),
            System.Text.Encoding.ASCII.GetBytes(last), 100L * n);
        return new DbManifest(
            WriterEpoch: 12,
            CompactorEpoch: 4,
            ReplayAfterWalId: 99,
            NextWalId: 103,
            LastL0Sequence: 987_654,
            L0: [Handle(9, "k", "z"), Handle(8, "a", "q")],
            SortedRuns: [new SortedRun(7, [Handle(1, "a", "f"), Handle(2, "g", "p")]), new SortedRun(3, [Handle(3, "a", "z")])],
            Checkpoints: [new Checkpoint(new Guid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"), 98, 1_763_769_600_000, 1_763_856_000_000, "golden")]);
    }

    private static async Task<byte[]> BuildSstAsync(CompressionCodec codec) =>
        (await SstTestHelpers.BuildAsync(SstRows(), new SstBuilderOptions { BlockSize = 512, Codec = codec })).Bytes;

    [TestCase("sst-v1.sst", CompressionCodec.None, true)]
    [TestCase("sst-v1-zstd.sst", CompressionCodec.Zstd, false)]
    public async Task Sst_v1(string name, CompressionCodec codec, bool exactBytes)
    {
        var encoded = await BuildSstAsync(codec);
        var golden = Golden(name, encoded);
        var store = new InMemoryObjectStore();
        var path = ObjectPath.Parse("compacted/golden.sst");
        await store.PutAsync(path, golden, PutMode.Overwrite);
        var reader = await SstReader.OpenAsync(store, path, null);
        Assert.That(reader.Info.FormatVersion, Is.EqualTo(1));
        Assert.That(reader.Info.Codec, Is.EqualTo(codec));
        Assert.That(await SstTestHelpers.ReadAllAsync(reader), Is.EqualTo(SstRows()));
        if (codec != CompressionCodec.None)
        {
            Assert.That(golden.Length, Is.LessThan((await BuildSstAsync(CompressionCodec.None)).Length * 3 / 4), "blocks are compressed");
        }

        if (exactBytes)
        {
            Assert.That(encoded, Is.EqualTo(golden), "encoding the golden input must reproduce the golden bytes");
        }
    }

    [Test]
    public void Wal_v1_is_still_read()
    {
        var golden = ReadOnlyGolden("wal-v1.wal");
        var decoded = WalObjectCodec.Decode(golden, "wal/golden.sst", zeroByteIsFence: false);
        Assert.That((decoded.Kind, decoded.FormatVersion, decoded.WriterEpoch), Is.EqualTo((WalObjectKind.Data, (ushort)1, (ulong?)null)));
        Assert.That(decoded.Batches.Select(b => b.Rows.ToList()), Is.EqualTo(WalBatches()));
        Assert.That(WalTestFormat.EncodeV1(WalBatches()), Is.EqualTo(golden), "the test-side v1 encoder matches the stored v1 layout");
    }

    [Test]
    public void Wal_v2_data_is_still_read()
    {
        var golden = ReadOnlyGolden("wal-v2.wal");
        var decoded = WalObjectCodec.Decode(golden, "wal/golden.sst", zeroByteIsFence: false);
        Assert.That((decoded.Kind, decoded.FormatVersion, decoded.WriterEpoch), Is.EqualTo((WalObjectKind.Data, (ushort)2, (ulong?)WalWriterEpoch)));
        Assert.That(decoded.Batches.Select(b => b.Rows.ToList()), Is.EqualTo(WalBatches()));
        Assert.That(WalTestFormat.EncodeV2(WalBatches(), WalWriterEpoch), Is.EqualTo(golden), "the test-side v2 encoder matches the stored v2 layout");
    }

    [Test]
    public void Wal_v3_data_with_a_range_delete()
    {
        var encoded = WalObjectWriter.Encode(WalV3Batches(), WalWriterEpoch);
        var golden = Golden("wal-v3.wal", encoded);
        var decoded = WalObjectCodec.Decode(golden, "wal/golden.sst", zeroByteIsFence: false);
        Assert.That((decoded.Kind, decoded.FormatVersion, decoded.WriterEpoch), Is.EqualTo((WalObjectKind.Data, (ushort)3, (ulong?)WalWriterEpoch)));
        Assert.That(decoded.Batches.Select(b => b.Rows.ToList()), Is.EqualTo(WalV3Batches()));
        Assert.That(decoded.Batches.SelectMany(b => b.Rows).Select(r => r.Kind).Distinct(), Is.EquivalentTo(new[] { RowKind.Put, RowKind.Delete, RowKind.Merge, RowKind.RangeDelete }));
        Assert.That(encoded, Is.EqualTo(golden));
        Assert.That(golden.AsSpan(4, 2).ToArray(), Is.EqualTo(new byte[] { 3, 0 }), "format version 3");
    }

    [Test]
    public void Wal_v2_fence()
    {
        var encoded = WalObjectCodec.EncodeFence(FenceWriterEpoch);
        var golden = Golden("wal-v2-fence.wal", encoded);
        var decoded = WalObjectCodec.Decode(golden, "wal/golden.sst", zeroByteIsFence: false);
        Assert.That((decoded.Kind, decoded.FormatVersion, decoded.WriterEpoch), Is.EqualTo((WalObjectKind.Fence, (ushort)2, (ulong?)FenceWriterEpoch)));
        Assert.That(encoded, Is.EqualTo(golden));
    }

    [Test]
    public void Manifest_v1_is_still_read()
    {
        var golden = ReadOnlyGolden("manifest-v1.manifest");
        Assert.That(ManifestCodec.Decode(golden, "manifest/golden.manifest"), Is.EqualTo(Manifest() with { WalV1FencesBelow = ulong.MaxValue }));
        Assert.That(ManifestTestFormat.EncodeV1(Manifest()), Is.EqualTo(golden), "the test-side v1 encoder matches the stored v1 layout");
    }

    [Test]
    public void Manifest_v2_is_still_read()
    {
        var golden = ReadOnlyGolden("manifest-v2.manifest");
        var decoded = ManifestCodec.Decode(golden, "manifest/golden.manifest");
        Assert.That(decoded, Is.EqualTo(ManifestV2()));
        Assert.That(decoded.SortedRuns.Select(r => r.Id), Is.EqualTo(new uint[] { 7, 3 }), "newest first, and newest highest once read");
        Assert.That(ManifestTestFormat.EncodeV2(ManifestV2()), Is.EqualTo(golden), "the test-side v2 encoder matches the stored v2 layout");
    }

    [Test]
    public void Manifest_v3_with_an_unknown_tag()
    {
        var encoded = ManifestCodec.Encode(ManifestV2());
        var golden = Golden("manifest-v3.manifest", encoded);
        var decoded = ManifestCodec.Decode(golden, "manifest/golden.manifest");
        Assert.That(decoded, Is.EqualTo(ManifestV2()));
        Assert.That(decoded.UnknownExtensions.Single().Tag, Is.EqualTo(0x0042));
        Assert.That(encoded, Is.EqualTo(golden));
        Assert.That(golden.AsSpan(4, 2).ToArray(), Is.EqualTo(new byte[] { 3, 0 }), "format version 3");
    }

    [Test]
    public void Manifest_v3_with_range_tombstones()
    {
        var encoded = ManifestCodec.Encode(ManifestWithRangeTombstones());
        var golden = Golden("manifest-v3-range-tombstones.manifest", encoded);
        var decoded = ManifestCodec.Decode(golden, "manifest/golden.manifest");
        Assert.That(decoded, Is.EqualTo(ManifestWithRangeTombstones()));
        Assert.That(decoded.RangeTombstones.Select(t => t.Sequence), Is.EqualTo(new ulong[] { 900_000, 987_000, 987_654 }));
        Assert.That(encoded, Is.EqualTo(golden));
        Assert.That(golden.AsSpan(4, 2).ToArray(), Is.EqualTo(new byte[] { 3, 0 }), "format version 3");
        Assert.That(ManifestCodec.Encode(decoded with { RangeTombstones = [] }), Is.EqualTo(ReadOnlyGolden("manifest-v3.manifest")), "without tombstones, the tag is not stored");
    }

    [Test]
    public void Manifest_v3_with_unpublished_compaction_outputs()
    {
        var encoded = ManifestCodec.Encode(ManifestWithUnpublishedOutputs());
        var golden = Golden("manifest-v3-unpublished-outputs.manifest", encoded);
        var decoded = ManifestCodec.Decode(golden, "manifest/golden.manifest");
        Assert.That(decoded, Is.EqualTo(ManifestWithUnpublishedOutputs()));
        Assert.That(decoded.UnpublishedCompactionOutputs, Is.EqualTo(new[] { GoldenSstId(10), GoldenSstId(11) }));
        Assert.That(decoded.UnpublishedCompactionOutputs.Select(id => id.ToString()), Is.Ordered, "ascending ids, ascending names");
        var published = decoded.L0.Concat(decoded.SortedRuns.SelectMany(r => r.Ssts)).Select(h => h.Id);
        Assert.That(decoded.UnpublishedCompactionOutputs.Intersect(published), Is.Empty);
        Assert.That(encoded, Is.EqualTo(golden));
        Assert.That(golden.AsSpan(4, 2).ToArray(), Is.EqualTo(new byte[] { 3, 0 }), "format version 3");
        Assert.That(
            ManifestCodec.Encode(decoded with { UnpublishedCompactionOutputs = [] }), Is.EqualTo(ReadOnlyGolden("manifest-v3-range-tombstones.manifest")),
            "without unpublished outputs, the tag is not stored");
    }

    [Test]
    public void Lease_v1()
    {
        var lease = new SlateSharp.Leases.ReaderLease(new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), 4242, 1_763_769_600_000);
        var encoded = SlateSharp.Leases.ReaderLeaseCodec.Encode(lease);
        var golden = Golden("lease-v1.lease", encoded);
        Assert.That(SlateSharp.Leases.ReaderLeaseCodec.Decode(golden, "leases/golden.lease"), Is.EqualTo(lease));
        Assert.That(encoded, Is.EqualTo(golden));
        Assert.That(golden, Has.Length.EqualTo(44));

        var corrupt = (byte[])golden.Clone();
        corrupt[30] ^= 1;
        var error = Assert.Throws<SlateSharpException>(() => SlateSharp.Leases.ReaderLeaseCodec.Decode(corrupt, "leases/golden.lease"))!;
        Assert.That((error.Kind, error.Message.Contains("leases/golden.lease", StringComparison.Ordinal)), Is.EqualTo((ErrorKind.Data, true)));
    }

    [Test]
    public void Disk_cache_chunk_v1_is_no_longer_read()
    {
        // Version 1 (one checksum over the whole file) is not written any more: a cache directory from before treats
        // such a file as a miss, deletes it and fetches the chunk again (docs/format/disk-cache-chunk.md).
        var golden = ReadOnlyGolden("disk-cache-chunk-v1.chunk");
        Assert.That(golden.AsSpan(4, 2).ToArray(), Is.EqualTo(new byte[] { 1, 0 }), "format version 1");
        Assert.That(SlateSharp.Storage.Caching.ChunkFile.TryDecode(golden), Is.Null);
        Assert.That(SlateSharp.Storage.Caching.ChunkFile.TryDecodeHeader(golden, out _, out _), Is.Null);
    }

    [Test]
    public void Disk_cache_chunk_v2()
    {
        var header = new SlateSharp.Storage.Caching.ChunkHeader(
            "s3://bucket/db|compacted/01JDQ2X3Y4Z5A6B7C8D9E0F1G2.sst", 131072, 200_000, "\"9b2cf535f27731c974343645a3985328\"", new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var data = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray(); // two pages, the second short
        var encoded = SlateSharp.Storage.Caching.ChunkFile.Encode(header, data);
        var golden = Golden("disk-cache-chunk-v2.chunk", encoded);
        var decoded = SlateSharp.Storage.Caching.ChunkFile.TryDecode(golden);
        Assert.That(decoded, Is.Not.Null);
        Assert.That(decoded!.Value.Header, Is.EqualTo(header));
        Assert.That(decoded.Value.Data.ToArray(), Is.EqualTo(data));
        Assert.That(encoded, Is.EqualTo(golden));
        Assert.That(golden.AsSpan(4, 2).ToArray(), Is.EqualTo(new byte[] { 2, 0 }), "format version 2");
        var dataStart = SlateSharp.Storage.Caching.ChunkFile.DataStart(header.Key, header.Version, data.Length);
        Assert.That(dataStart, Is.EqualTo(40 + 55 + 34 + (2 * 4) + 4), "header, key, version, two page checksums, header checksum");
        Assert.That(golden.Length, Is.EqualTo(dataStart + data.Length));
    }

    /// <summary>Reads a golden file from the test output, or writes it into the source tree when regenerating.</summary>
    private static byte[] Golden(string name, byte[] encoded)
    {
        if (Regenerate)
        {
            var target = Path.Combine(SourceDirectory(), "TestData", "format", name);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, encoded);
            TestContext.Out.WriteLine($"regenerated {target} ({encoded.Length} bytes)");
            return encoded;
        }

        return ReadOnlyGolden(name);
    }

    /// <summary>Reads a golden file from the test output; files of versions no longer written are never regenerated.</summary>
    private static byte[] ReadOnlyGolden(string name)
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "format", name);
        Assert.That(File.Exists(path), Is.True, $"golden file missing: {path}; generate it with SLATESHARP_REGENERATE_GOLDEN=1");
        return File.ReadAllBytes(path);
    }

    private static string SourceDirectory()
    {
        for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Engine.Tests.csproj")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("cannot find Engine.Tests.csproj above the test output directory");
    }
}
