using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Manifest;

namespace SlateSharp.Tests.Format;

/// <summary>Test-side manifest encodings: version 1 (no longer written), arbitrary extension areas, checksum repair.</summary>
internal static class ManifestTestFormat
{
    /// <summary>The version 1 encoding of <paramref name="manifest"/>'s positional fields (its extensions are not representable).</summary>
    public static byte[] EncodeV1(DbManifest manifest)
    {
        var fields = PositionalFields(manifest);
        BinaryPrimitives.WriteUInt16LittleEndian(fields.AsSpan(4), 1);
        return WithChecksum(fields);
    }

    /// <summary>
    /// A version 2 manifest with <paramref name="manifest"/>'s positional fields and exactly the given extension
    /// entries, in the given order, valid or not.
    /// </summary>
    public static byte[] EncodeWithExtensions(DbManifest manifest, params (ushort Tag, byte[] Value)[] extensions)
    {
        var fields = PositionalFields(manifest);
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

    public static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>Header and v1 fields of the version 2 encoding, without the extension area and checksum.</summary>
    private static byte[] PositionalFields(DbManifest manifest)
    {
        var v2 = ManifestCodec.Encode(manifest with { WalV1FencesBelow = 0, UnknownExtensions = [] });
        return v2[..^8];
    }

    private static byte[] WithChecksum(byte[] body)
    {
        var bytes = new byte[body.Length + 4];
        body.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(body.Length), Crc32C.Compute(body));
        return bytes;
    }
}
