using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Manifest;

namespace SlateSharp.Tests.Format;

/// <summary>
/// Test-side manifest encodings: versions 1 and 2 (no longer written, with sorted-run ids stored ascending), arbitrary
/// extension areas, checksum repair.
/// </summary>
internal static class ManifestTestFormat
{
    /// <summary>
    /// What a version 1 writer stored for <paramref name="manifest"/>'s positional fields (its extensions are not
    /// representable): the same runs in the same list order, their ids handed out in reverse (ascending).
    /// </summary>
    public static byte[] EncodeV1(DbManifest manifest) => WithChecksum(PositionalFields(OldRunIds(manifest), version: 1));

    /// <summary>What a version 2 writer stored for <paramref name="manifest"/> (its known and unknown extensions included).</summary>
    public static byte[] EncodeV2(DbManifest manifest)
    {
        var v3 = ManifestCodec.Encode(manifest);
        var extensionArea = v3.AsSpan(PositionalFields(manifest, version: 3).Length, v3.Length - 4 - PositionalFields(manifest, version: 3).Length);
        return WithChecksum([.. PositionalFields(OldRunIds(manifest), version: 2), .. extensionArea]);
    }

    /// <summary>
    /// A current-version manifest with <paramref name="manifest"/>'s positional fields and exactly the given extension
    /// entries, in the given order, valid or not.
    /// </summary>
    public static byte[] EncodeWithExtensions(DbManifest manifest, params (ushort Tag, byte[] Value)[] extensions)
    {
        var fields = PositionalFields(manifest, ManifestCodec.CurrentVersion);
        var area = new List<byte>();
        var count = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(count, (uint)extensions.Length);
        area.AddRange(count);
        foreach (var (tag, value) in extensions)
        {
            var header = new byte[6];
            BinaryPrimitives.WriteUInt16LittleEndian(header, tag);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(2), (uint)value.Length);
            area.AddRange(header);
            area.AddRange(value);
        }

        return WithChecksum([.. fields, .. area]);
    }

    /// <summary>Recomputes the trailing checksum over everything before it (inputs shorter than a checksum stay as they are).</summary>
    public static byte[] Repair(byte[] input) => input.Length < 4 ? (byte[])input.Clone() : WithChecksum(input[..^4]);

    /// <summary>
    /// The value of extension <c>range_tombstones</c> (0x8002) written field by field as docs/format/manifest.md lays it
    /// out: u32 count, then per tombstone u64 sequence, u16 start length, start, u16 end length, end; valid or not.
    /// </summary>
    public static byte[] RangeTombstones(params (ulong Sequence, byte[] Start, byte[] End)[] tombstones)
    {
        var value = new List<byte>();
        var u32 = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)tombstones.Length);
        value.AddRange(u32);
        foreach (var (sequence, start, end) in tombstones)
        {
            value.AddRange(U64(sequence));
            foreach (var key in new[] { start, end })
            {
                var u16 = new byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)key.Length);
                value.AddRange(u16);
                value.AddRange(key);
            }
        }

        return [.. value];
    }

    /// <summary>
    /// The value of extension <c>unpublished_compaction_outputs</c> (0x8003) written field by field as
    /// docs/format/manifest.md lays it out: u32 count, then each id as a big-endian u128 (16 bytes); valid or not.
    /// </summary>
    public static byte[] SstIds(params SstId[] ids)
    {
        var value = new byte[4 + (ids.Length * 16)];
        BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            BinaryPrimitives.WriteUInt128BigEndian(value.AsSpan(4 + (i * 16), 16), ids[i].Value);
        }

        return value;
    }

    public static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>
    /// Header (with <paramref name="version"/>) and positional fields, written field by field as docs/format/manifest.md
    /// lays them out, without an extension area or checksum; run ids as given, whatever their order.
    /// </summary>
    private static byte[] PositionalFields(DbManifest manifest, ushort version)
    {
        var output = new List<byte>();
        Add(output, 4, span => BinaryPrimitives.WriteUInt32LittleEndian(span, ManifestCodec.Magic));
        Add(output, 2, span => BinaryPrimitives.WriteUInt16LittleEndian(span, version));
        Add(output, 2, _ => { });
        foreach (var value in new[] { manifest.WriterEpoch, manifest.CompactorEpoch, manifest.ReplayAfterWalId, manifest.NextWalId, manifest.LastL0Sequence })
        {
            output.AddRange(U64(value));
        }

        AddHandles(output, manifest.L0);
        Add(output, 4, span => BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)manifest.SortedRuns.Count));
        foreach (var run in manifest.SortedRuns)
        {
            Add(output, 4, span => BinaryPrimitives.WriteUInt32LittleEndian(span, run.Id));
            AddHandles(output, run.Ssts);
        }

        Add(output, 4, span => BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)manifest.Checkpoints.Count));
        foreach (var checkpoint in manifest.Checkpoints)
        {
            Add(output, 16, span => checkpoint.Id.TryWriteBytes(span, bigEndian: true, out _));
            output.AddRange(U64(checkpoint.ManifestId));
            output.AddRange(U64((ulong)checkpoint.CreatedAt));
            output.Add((byte)((checkpoint.ExpiresAt.HasValue ? 1 : 0) | (checkpoint.Name is null ? 0 : 2)));
            if (checkpoint.ExpiresAt is { } expires)
            {
                output.AddRange(U64((ulong)expires));
            }

            if (checkpoint.Name is { } name)
            {
                AddBytes16(output, System.Text.Encoding.UTF8.GetBytes(name));
            }
        }

        return [.. output];
    }

    /// <summary>The manifest as a version 1 or 2 writer held it: the same list, run ids ascending.</summary>
    private static DbManifest OldRunIds(DbManifest manifest)
    {
        var runs = manifest.SortedRuns;
        return manifest with { SortedRuns = [.. runs.Select((run, i) => run with { Id = runs[runs.Count - 1 - i].Id })] };
    }

    private static void AddHandles(List<byte> output, IReadOnlyList<SstHandle> handles)
    {
        Add(output, 4, span => BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)handles.Count));
        foreach (var handle in handles)
        {
            Add(output, 16, span => BinaryPrimitives.WriteUInt128BigEndian(span, handle.Id.Value));
            output.AddRange(U64((ulong)handle.Size));
            output.AddRange(U64((ulong)handle.EntryCount));
            AddBytes16(output, handle.FirstKey);
            AddBytes16(output, handle.LastKey);
        }
    }

    private static void AddBytes16(List<byte> output, byte[] bytes)
    {
        Add(output, 2, span => BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)bytes.Length));
        output.AddRange(bytes);
    }

    private static void Add(List<byte> output, int length, SpanAction write)
    {
        var bytes = new byte[length];
        write(bytes);
        output.AddRange(bytes);
    }

    private delegate void SpanAction(Span<byte> span);

    private static byte[] WithChecksum(byte[] body)
    {
        var bytes = new byte[body.Length + 4];
        body.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(body.Length), Crc32C.Compute(body));
        return bytes;
    }
}
