using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using SlateSharp.Manifest;

namespace SlateSharp.Format;

/// <summary>
/// Encodes and decodes <see cref="DbManifest"/> (docs/format/manifest.md): magic, format version, the positional
/// fields of version 1, from version 2 a tagged extension area (known tags: wal_v1_fences_below, range_tombstones), CRC32C. Writes version 3, reads 1 to 3 (version 3
/// differs from 2 only in that sorted-run ids descend, newest highest; older versions stored them ascending, newest
/// lowest, and are read by handing the same ids out in reverse, so the list order and the id set stay as stored). Both
/// directions check the manifest's invariants: encoding an invalid manifest is an <see cref="ErrorKind.Internal"/>
/// error (a bug in whoever built it), decoding one is an <see cref="ErrorKind.Data"/> error naming the object.
/// </summary>
internal static class ManifestCodec
{
    /// <summary>The manifest format version this build writes.</summary>
    public const ushort CurrentVersion = 3;

    /// <summary>The oldest version this build reads.</summary>
    public const ushort OldestReadableVersion = 1;

    /// <summary>"SLMF" read as a little-endian u32: the first four bytes of every manifest.</summary>
    public const uint Magic = 0x464D4C53;

    /// <summary>Tag bit 15: a reader that does not know the tag must refuse the manifest instead of skipping it.</summary>
    public const ushort CriticalTagBit = 0x8000;

    /// <summary>Extension tag 1, critical: u64 <see cref="DbManifest.WalV1FencesBelow"/>, stored only when non-zero.</summary>
    public const ushort WalV1FencesBelowTag = CriticalTagBit | 0x0001;

    /// <summary>
    /// Extension tag 2, critical: <see cref="DbManifest.RangeTombstones"/>, stored only when non-empty. Critical because
    /// a build that skipped it would resurrect deleted keys, and one that rewrote the manifest would drop the deletes.
    /// </summary>
    public const ushort RangeTombstonesTag = CriticalTagBit | 0x0002;

    /// <summary>
    /// Extension tag 3, critical: <see cref="DbManifest.UnpublishedCompactionOutputs"/>, stored only when non-empty.
    /// Critical because a collector that skipped it could delete an SST the compactor is about to publish.
    /// </summary>
    public const ushort UnpublishedCompactionOutputsTag = CriticalTagBit | 0x0003;

    /// <summary>Extension entry overhead: tag u16, value length u32.</summary>
    public const int ExtensionHeaderLength = 2 + 4;

    private const int HeaderLength = 8;
    private const int MinHandleLength = 16 + 8 + 8 + 2 + 1 + 2 + 1;
    private const int MinCheckpointLength = 16 + 8 + 8 + 1;
    private const byte CheckpointHasExpiry = 0x01;
    private const byte CheckpointHasName = 0x02;

    /// <summary>A range tombstone's smallest encoding: sequence u64, start length u16, one byte, end length u16, one byte.</summary>
    private const int MinRangeTombstoneLength = 8 + 2 + 1 + 2 + 1;

    /// <summary>Encodes <paramref name="manifest"/>; throws <see cref="ErrorKind.Internal"/> if it breaks an invariant.</summary>
    public static byte[] Encode(DbManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (ManifestInvariants.FindViolation(manifest) is { } problem)
        {
            throw Errors.Internal($"refusing to encode an invalid manifest: {problem}");
        }

        var output = new ArrayBufferWriter<byte>(256);
        var header = output.GetSpan(HeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
        output.Advance(HeaderLength);

        WriteU64(output, manifest.WriterEpoch);
        WriteU64(output, manifest.CompactorEpoch);
        WriteU64(output, manifest.ReplayAfterWalId);
        WriteU64(output, manifest.NextWalId);
        WriteU64(output, manifest.LastL0Sequence);
        WriteHandles(output, manifest.L0);
        WriteU32(output, (uint)manifest.SortedRuns.Count);
        foreach (var run in manifest.SortedRuns)
        {
            WriteU32(output, run.Id);
            WriteHandles(output, run.Ssts);
        }

        WriteU32(output, (uint)manifest.Checkpoints.Count);
        foreach (var checkpoint in manifest.Checkpoints)
        {
            WriteCheckpoint(output, checkpoint);
        }

        WriteExtensions(output, manifest);
        WriteU32(output, Crc32C.Compute(output.WrittenSpan));
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes a manifest read from <paramref name="path"/>. Rejects other magic, versions this build cannot read
    /// (saying which it found and which it supports), checksum mismatches, malformed fields and broken invariants.
    /// </summary>
    public static DbManifest Decode(ReadOnlySpan<byte> data, string path)
    {
        var reader = new SpanReader(data, path, 0, "manifest");
        var magic = reader.ReadU32();
        reader.Require(magic == Magic, $"not a manifest: bad magic (found={magic:x8} expected={Magic:x8})");
        var version = reader.ReadU16();
        if (version is < OldestReadableVersion or > CurrentVersion)
        {
            throw Errors.Data(path, 4, $"unsupported manifest format version {version}; this build reads versions {OldestReadableVersion} to {CurrentVersion}");
        }

        reader.Require(reader.ReadU16() == 0, "reserved header field is not zero");
        reader.Require(data.Length >= HeaderLength + 4, "too short for a checksum");
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        var actual = Crc32C.Compute(data[..^4]);
        if (expected != actual)
        {
            throw Errors.Data(path, data.Length - 4, $"manifest checksum mismatch (expected={expected:x8} actual={actual:x8})");
        }

        reader = new SpanReader(data[HeaderLength..^4], path, HeaderLength, "manifest");
        var writerEpoch = reader.ReadU64();
        var compactorEpoch = reader.ReadU64();
        var replayAfter = reader.ReadU64();
        var nextWalId = reader.ReadU64();
        var lastL0Sequence = reader.ReadU64();
        var l0 = ReadHandles(ref reader);
        var runCount = reader.ReadCount(4 + 4);
        var runs = new SortedRun[runCount];
        for (var i = 0; i < runCount; i++)
        {
            var id = reader.ReadU32();
            runs[i] = new SortedRun(id, ReadHandles(ref reader));
        }

        if (version < 3)
        {
            runs = NewestHighest(runs, path);
        }

        var checkpointCount = reader.ReadCount(MinCheckpointLength);
        var checkpoints = new Checkpoint[checkpointCount];
        for (var i = 0; i < checkpointCount; i++)
        {
            checkpoints[i] = ReadCheckpoint(ref reader);
        }

        // A version 1 manifest was written by v1 writers, whose fences are zero-byte objects at any WAL id.
        var extensions = new Extensions(ulong.MaxValue, [], [], []);
        if (version >= 2)
        {
            extensions = ReadExtensions(ref reader, path);
        }

        reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the manifest fields");
        var manifest = new DbManifest(writerEpoch, compactorEpoch, replayAfter, nextWalId, lastL0Sequence, l0, runs, checkpoints)
        {
            WalV1FencesBelow = extensions.WalV1FencesBelow,
            UnknownExtensions = extensions.Unknown,
            RangeTombstones = extensions.RangeTombstones,
            UnpublishedCompactionOutputs = extensions.UnpublishedCompactionOutputs,
        };
        if (ManifestInvariants.FindViolation(manifest) is { } problem)
        {
            throw Errors.Data(path, 0, $"manifest breaks an invariant: {problem}");
        }

        return manifest;
    }

    /// <summary>
    /// Versions 1 and 2 stored run ids ascending (newest lowest, first in the list); the same ids handed out in reverse
    /// keep the list (newest first) and make the newest the highest.
    /// </summary>
    private static SortedRun[] NewestHighest(SortedRun[] runs, string path)
    {
        for (var i = 1; i < runs.Length; i++)
        {
            if (runs[i].Id <= runs[i - 1].Id)
            {
                throw Errors.Data(path, 0, $"manifest breaks an invariant: sorted run ids of a version 1 or 2 manifest must ascend (id={runs[i].Id} previous={runs[i - 1].Id})");
            }
        }

        var remapped = new SortedRun[runs.Length];
        for (var i = 0; i < runs.Length; i++)
        {
            remapped[i] = runs[i] with { Id = runs[runs.Length - 1 - i].Id };
        }

        return remapped;
    }

    /// <summary>True for the tags this build interprets; every other tag is unknown to it.</summary>
    public static bool IsKnownTag(ushort tag) => tag is WalV1FencesBelowTag or RangeTombstonesTag or UnpublishedCompactionOutputsTag;

    private static void WriteExtensions(ArrayBufferWriter<byte> output, DbManifest manifest)
    {
        var known = new List<ManifestExtension>(2);
        if (manifest.WalV1FencesBelow != 0)
        {
            var value = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(value, manifest.WalV1FencesBelow);
            known.Add(new ManifestExtension(WalV1FencesBelowTag, value));
        }

        if (manifest.RangeTombstones.Count > 0)
        {
            known.Add(new ManifestExtension(RangeTombstonesTag, EncodeRangeTombstones(manifest.RangeTombstones)));
        }

        if (manifest.UnpublishedCompactionOutputs.Count > 0)
        {
            known.Add(new ManifestExtension(UnpublishedCompactionOutputsTag, EncodeSstIds(manifest.UnpublishedCompactionOutputs)));
        }

        // The invariants guarantee unknown tags are ascending, unique and distinct from known ones: one merge by tag.
        var all = known.Concat(manifest.UnknownExtensions).OrderBy(e => e.Tag).ToList();
        WriteU32(output, (uint)all.Count);
        foreach (var extension in all)
        {
            var span = output.GetSpan(ExtensionHeaderLength + extension.Value.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(span, extension.Tag);
            BinaryPrimitives.WriteUInt32LittleEndian(span[2..], (uint)extension.Value.Length);
            extension.Value.CopyTo(span[ExtensionHeaderLength..]);
            output.Advance(ExtensionHeaderLength + extension.Value.Length);
        }
    }

    /// <summary>What the extension area holds: the known tags' values (absent tags at their defaults) and the unknown tags.</summary>
    private sealed record Extensions(
        ulong WalV1FencesBelow, IReadOnlyList<RangeTombstone> RangeTombstones, IReadOnlyList<SstId> UnpublishedCompactionOutputs, IReadOnlyList<ManifestExtension> Unknown);

    private static Extensions ReadExtensions(ref SpanReader reader, string path)
    {
        var count = reader.ReadCount(ExtensionHeaderLength);
        ulong walV1FencesBelow = 0;
        IReadOnlyList<RangeTombstone> rangeTombstones = [];
        IReadOnlyList<SstId> unpublished = [];
        var unknown = new List<ManifestExtension>();
        var previous = -1;
        for (var i = 0; i < count; i++)
        {
            var at = reader.AbsoluteOffset;
            var tag = reader.ReadU16();
            if ((tag & ~CriticalTagBit) == 0 || tag <= previous)
            {
                throw Errors.Data(path, at, $"manifest extension tags must be non-zero, ascending and unique (tag=0x{tag:x4} previous=0x{previous:x4})");
            }

            if ((tag & CriticalTagBit) != 0 && !IsKnownTag(tag))
            {
                throw Errors.Data(path, at,
                    $"manifest extension tag 0x{tag:x4} is critical and unknown to this build: a newer build wrote this manifest, which must not " +
                    $"be read or rewritten without understanding the tag; open the database with that build or a newer one (tag=0x{tag:x4})");
            }

            previous = tag;
            var length = reader.ReadU32();
            reader.Require(length <= (uint)reader.Remaining, $"extension 0x{tag:x4} runs past the checksum (length={length} remaining={reader.Remaining})");
            var valueOffset = reader.AbsoluteOffset;
            var value = reader.Take((int)length);
            if (tag == WalV1FencesBelowTag)
            {
                reader.Require(length == 8, $"extension wal_v1_fences_below must be 8 bytes (tag=0x{tag:x4} length={length})");
                walV1FencesBelow = BinaryPrimitives.ReadUInt64LittleEndian(value);
            }
            else if (tag == RangeTombstonesTag)
            {
                rangeTombstones = DecodeRangeTombstones(value, path, valueOffset);
            }
            else if (tag == UnpublishedCompactionOutputsTag)
            {
                unpublished = DecodeSstIds(value, path, valueOffset);
            }
            else
            {
                unknown.Add(new ManifestExtension(tag, value.ToArray()));
            }
        }

        return new Extensions(walV1FencesBelow, rangeTombstones, unpublished, unknown);
    }

    /// <summary>The value of <see cref="RangeTombstonesTag"/>: u32 count, then per tombstone u64 sequence, u16 + start, u16 + end.</summary>
    private static byte[] EncodeRangeTombstones(IReadOnlyList<RangeTombstone> tombstones)
    {
        var output = new ArrayBufferWriter<byte>(4 + (tombstones.Count * 32));
        WriteU32(output, (uint)tombstones.Count);
        foreach (var tombstone in tombstones)
        {
            WriteU64(output, tombstone.Sequence);
            WriteBytes16(output, tombstone.Start);
            WriteBytes16(output, tombstone.End);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads the value of <see cref="RangeTombstonesTag"/>, which starts at <paramref name="offset"/> of the manifest. The
    /// invariants check the same rules again on the whole manifest; checking here names the byte that breaks them.
    /// </summary>
    private static RangeTombstone[] DecodeRangeTombstones(ReadOnlySpan<byte> value, string path, long offset)
    {
        var reader = new SpanReader(value, path, offset, "manifest extension range_tombstones");
        var count = reader.ReadCount(MinRangeTombstoneLength);
        var tombstones = new RangeTombstone[count];
        for (var i = 0; i < count; i++)
        {
            var sequence = reader.ReadU64();
            reader.Require(i == 0 || sequence > tombstones[i - 1].Sequence, $"sequences must strictly ascend (sequence={sequence} previous={(i == 0 ? 0 : tombstones[i - 1].Sequence)})");
            var start = reader.Take(reader.ReadU16());
            reader.Require(start.Length > 0, $"empty start key (sequence={sequence})");
            var end = reader.Take(reader.ReadU16());
            reader.Require(end.Length > 0, $"empty end key (sequence={sequence})");
            reader.Require(KeyComparer.CompareKeys(start, end) < 0, $"start key does not sort before the end key (sequence={sequence})");
            tombstones[i] = new RangeTombstone(start.ToArray(), end.ToArray(), sequence);
        }

        reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the tombstones (count={count})");
        return tombstones;
    }

    /// <summary>The value of <see cref="UnpublishedCompactionOutputsTag"/>: u32 count, then each id as a big-endian u128.</summary>
    private static byte[] EncodeSstIds(IReadOnlyList<SstId> ids)
    {
        var value = new byte[4 + (ids.Count * 16)];
        BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            BinaryPrimitives.WriteUInt128BigEndian(value.AsSpan(4 + (i * 16)), ids[i].Value);
        }

        return value;
    }

    /// <summary>Reads the value of <see cref="UnpublishedCompactionOutputsTag"/>, which starts at <paramref name="offset"/> of the manifest.</summary>
    private static SstId[] DecodeSstIds(ReadOnlySpan<byte> value, string path, long offset)
    {
        var reader = new SpanReader(value, path, offset, "manifest extension unpublished_compaction_outputs");
        var count = reader.ReadCount(16);
        var ids = new SstId[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = new SstId(BinaryPrimitives.ReadUInt128BigEndian(reader.Take(16)));
            reader.Require(i == 0 || ids[i].Value > ids[i - 1].Value, $"sst ids must strictly ascend (sst={ids[i]} previous={(i == 0 ? default : ids[i - 1])})");
        }

        reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the sst ids (count={count})");
        return ids;
    }

    private static void WriteHandles(ArrayBufferWriter<byte> output, IReadOnlyList<SstHandle> handles)
    {
        WriteU32(output, (uint)handles.Count);
        foreach (var handle in handles)
        {
            var span = output.GetSpan(16 + 8 + 8);
            BinaryPrimitives.WriteUInt128BigEndian(span, handle.Id.Value);
            BinaryPrimitives.WriteInt64LittleEndian(span[16..], handle.Size);
            BinaryPrimitives.WriteInt64LittleEndian(span[24..], handle.EntryCount);
            output.Advance(32);
            WriteBytes16(output, handle.FirstKey);
            WriteBytes16(output, handle.LastKey);
        }
    }

    private static SstHandle[] ReadHandles(ref SpanReader reader)
    {
        var count = reader.ReadCount(MinHandleLength);
        var handles = new SstHandle[count];
        for (var i = 0; i < count; i++)
        {
            var id = new SstId(BinaryPrimitives.ReadUInt128BigEndian(reader.Take(16)));
            var size = reader.ReadI64();
            var entries = reader.ReadI64();
            var first = reader.Take(reader.ReadU16()).ToArray();
            var last = reader.Take(reader.ReadU16()).ToArray();
            handles[i] = new SstHandle(id, size, first, last, entries);
        }

        return handles;
    }

    private static void WriteCheckpoint(ArrayBufferWriter<byte> output, Checkpoint checkpoint)
    {
        var span = output.GetSpan(MinCheckpointLength + 8);
        if (!checkpoint.Id.TryWriteBytes(span, bigEndian: true, out _))
        {
            throw Errors.Internal("checkpoint id does not fit 16 bytes");
        }

        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], checkpoint.ManifestId);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], checkpoint.CreatedAt);
        span[32] = (byte)((checkpoint.ExpiresAt.HasValue ? CheckpointHasExpiry : 0) | (checkpoint.Name is null ? 0 : CheckpointHasName));
        var length = MinCheckpointLength;
        if (checkpoint.ExpiresAt is { } expires)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[length..], expires);
            length += 8;
        }

        output.Advance(length);
        if (checkpoint.Name is { } name)
        {
            WriteBytes16(output, Encoding.UTF8.GetBytes(name));
        }
    }

    private static Checkpoint ReadCheckpoint(ref SpanReader reader)
    {
        var id = new Guid(reader.Take(16), bigEndian: true);
        var manifestId = reader.ReadU64();
        var createdAt = reader.ReadI64();
        var flags = reader.ReadU8();
        reader.Require((flags & ~(CheckpointHasExpiry | CheckpointHasName)) == 0, $"unknown checkpoint flags {flags:x2}");
        long? expiresAt = (flags & CheckpointHasExpiry) != 0 ? reader.ReadI64() : null;
        string? name = null;
        if ((flags & CheckpointHasName) != 0)
        {
            var bytes = reader.Take(reader.ReadU16());
            try
            {
                name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw reader.Fail("checkpoint name is not valid UTF-8");
            }
        }

        return new Checkpoint(id, manifestId, createdAt, expiresAt, name);
    }

    private static void WriteU64(ArrayBufferWriter<byte> output, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    private static void WriteU32(ArrayBufferWriter<byte> output, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    private static void WriteBytes16(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > ushort.MaxValue)
        {
            throw Errors.Internal($"manifest field too long (length={bytes.Length} max={ushort.MaxValue})");
        }

        var span = output.GetSpan(2 + bytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)bytes.Length);
        bytes.CopyTo(span[2..]);
        output.Advance(2 + bytes.Length);
    }
}
