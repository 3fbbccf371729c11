using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using SlateSharp.Manifest;

namespace SlateSharp.Format;

/// <summary>
/// Encodes and decodes <see cref="DbManifest"/> (docs/format/manifest.md): magic, format version, fields, CRC32C.
/// Both directions check the manifest's invariants: encoding an invalid manifest is an
/// <see cref="ErrorKind.Internal"/> error (a bug in whoever built it), decoding one is an <see cref="ErrorKind.Data"/>
/// error naming the object.
/// </summary>
internal static class ManifestCodec
{
    /// <summary>The manifest format version this build writes.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>The oldest version this build reads.</summary>
    public const ushort OldestReadableVersion = 1;

    /// <summary>"SLMF" read as a little-endian u32: the first four bytes of every manifest.</summary>
    public const uint Magic = 0x464D4C53;

    private const int HeaderLength = 8;
    private const int MinHandleLength = 16 + 8 + 8 + 2 + 1 + 2 + 1;
    private const int MinCheckpointLength = 16 + 8 + 8 + 1;
    private const byte CheckpointHasExpiry = 0x01;
    private const byte CheckpointHasName = 0x02;

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

        var checkpointCount = reader.ReadCount(MinCheckpointLength);
        var checkpoints = new Checkpoint[checkpointCount];
        for (var i = 0; i < checkpointCount; i++)
        {
            checkpoints[i] = ReadCheckpoint(ref reader);
        }

        reader.Require(reader.Remaining == 0, $"{reader.Remaining} unexpected bytes after the manifest fields");
        var manifest = new DbManifest(writerEpoch, compactorEpoch, replayAfter, nextWalId, lastL0Sequence, l0, runs, checkpoints);
        if (ManifestInvariants.FindViolation(manifest) is { } problem)
        {
            throw Errors.Data(path, 0, $"manifest breaks an invariant: {problem}");
        }

        return manifest;
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
