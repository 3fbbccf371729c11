using System.Buffers;
using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Format;

public sealed class WalObjectCodecTests
{
    private const string Path = "wal/00000000000000000007.sst";

    /// <summary>Random batches; the WAL golden file is built with this, so changing it means regenerating it.</summary>
    internal static List<List<RowEntry>> SampleBatches(Random random, int batches)
    {
        var result = new List<List<RowEntry>>();
        ulong sequence = 100;
        for (var b = 0; b < batches; b++)
        {
            var rows = new List<RowEntry>();
            var count = random.Next(1, 6);
            for (var i = 0; i < count; i++)
            {
                var key = new byte[random.Next(1, 20)];
                random.NextBytes(key);
                var kind = (RowKind)random.Next(0, 3);
                var value = kind == RowKind.Delete ? [] : new byte[random.Next(0, 40)];
                random.NextBytes(value);
                rows.Add(new RowEntry(key, value, sequence, kind, random.Next(3) == 0 ? random.NextInt64(0, long.MaxValue) : null));
            }

            sequence++;
            result.Add(rows);
        }

        return result;
    }

    [Test]
    public void Batches_round_trip_in_order_with_the_writer_epoch()
    {
        var seed = TestSeeds.Get(1);
        var batches = SampleBatches(new Random(seed), 20);
        var bytes = WalObjectWriter.Encode(batches, writerEpoch: 7);
        var decoded = WalObjectCodec.Decode(bytes, Path, zeroByteIsFence: false);
        Assert.That((decoded.Kind, decoded.FormatVersion, decoded.WriterEpoch), Is.EqualTo((WalObjectKind.Data, (ushort)3, (ulong?)7)));
        Assert.That(decoded.Batches.Select(b => b.Rows.ToList()), Is.EqualTo(batches), $"seed={seed}");
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)), Is.EqualTo(7UL), "the epoch sits at offset 8 of the header");
    }

    [Test]
    public void Incremental_writer_produces_the_same_bytes_as_one_shot_encoding()
    {
        var batches = SampleBatches(new Random(2), 5);
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new WalObjectWriter(buffer, writerEpoch: 3);
        Assert.That(writer.Length, Is.EqualTo(WalObjectCodec.HeaderLength));
        foreach (var batch in batches)
        {
            var before = buffer.WrittenCount;
            writer.AppendBatch(batch.ToArray());
            Assert.That(buffer.WrittenCount - before, Is.EqualTo(WalObjectWriter.EncodedLength(batch.ToArray())));
        }

        writer.Finish();
        Assert.That(writer.Length, Is.EqualTo(buffer.WrittenCount));
        Assert.That((writer.BatchCount, writer.RowCount), Is.EqualTo((5, batches.Sum(b => (long)b.Count))));
        Assert.That(buffer.WrittenSpan.ToArray(), Is.EqualTo(WalObjectWriter.Encode(batches, writerEpoch: 3)));
    }

    [Test]
    public void A_zero_byte_object_is_a_v1_fence_only_where_the_manifest_allows_it()
    {
        var fence = WalObjectCodec.Decode(ReadOnlyMemory<byte>.Empty, Path, zeroByteIsFence: true);
        Assert.That((fence.Kind, fence.IsFence, fence.FormatVersion, fence.WriterEpoch, fence.Batches.Count), Is.EqualTo((WalObjectKind.Fence, true, (ushort)1, (ulong?)null, 0)));

        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(ReadOnlyMemory<byte>.Empty, Path, zeroByteIsFence: false))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("zero-byte wal object").And.Contain("torn or truncated").And.Contain("DbOptions.SkipCorruptWalTail")
            .And.Contain($"path={Path}").And.Contain("offset=0"));
    }

    [Test]
    public void An_object_without_batches_is_data_not_a_fence()
    {
        var empty = WalObjectCodec.Decode(WalObjectWriter.Encode([], writerEpoch: 5), Path, zeroByteIsFence: true);
        Assert.That((empty.Kind, empty.WriterEpoch, empty.Batches.Count), Is.EqualTo((WalObjectKind.Data, (ulong?)5, 0)));
    }

    [Test]
    public void A_fence_record_is_20_bytes_and_names_the_writer_that_placed_it()
    {
        var bytes = WalObjectCodec.EncodeFence(0x0102_0304_0506_0708);
        Assert.That(bytes, Has.Length.EqualTo(WalObjectCodec.FenceLength));
        Assert.That(bytes[..4], Is.EqualTo("SLWF"u8.ToArray()));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)), Is.EqualTo(2));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)), Is.EqualTo(Crc32C.Compute(bytes.AsSpan(0, 16))));
        foreach (var zeroByteIsFence in new[] { false, true })
        {
            var fence = WalObjectCodec.Decode(bytes, Path, zeroByteIsFence);
            Assert.That((fence.Kind, fence.FormatVersion, fence.WriterEpoch, fence.Batches.Count), Is.EqualTo((WalObjectKind.Fence, (ushort)2, (ulong?)0x0102_0304_0506_0708, 0)));
        }
    }

    [Test]
    public void Every_truncation_bit_flip_and_extension_of_a_fence_record_is_a_data_error_naming_the_object()
    {
        var fence = WalObjectCodec.EncodeFence(9);
        var broken = new List<(byte[] Bytes, string What)>();
        for (var length = 0; length < fence.Length; length++)
        {
            broken.Add((fence[..length], $"truncated to {length}"));
        }

        for (var bit = 0; bit < fence.Length * 8; bit++)
        {
            var flipped = (byte[])fence.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            broken.Add((flipped, $"bit {bit} flipped"));
        }

        broken.Add(([.. fence, 0], "one byte appended"));
        foreach (var (bytes, what) in broken)
        {
            var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(bytes, Path, zeroByteIsFence: false), what)!;
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data), what);
            Assert.That(error.Message, Does.Contain($"path={Path}").And.Match("offset=[0-9]+"), what);
        }
    }

    [Test]
    public void Every_truncation_of_a_data_object_is_a_data_error_even_where_zero_bytes_would_be_a_v1_fence()
    {
        var bytes = WalObjectWriter.Encode(SampleBatches(new Random(6), 3), writerEpoch: 2);
        for (var length = 1; length < bytes.Length; length++)
        {
            var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(bytes.AsMemory(0, length), Path, zeroByteIsFence: true), $"length={length}")!;
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data), $"length={length}");
            Assert.That(error.Message, Does.Contain($"path={Path}"), $"length={length}");
        }
    }

    [Test]
    public void The_trailer_checksum_covers_the_writer_epoch()
    {
        var bytes = WalObjectWriter.Encode(SampleBatches(new Random(7), 2), writerEpoch: 4);
        bytes[8] ^= 0x01;
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(bytes, Path, zeroByteIsFence: false))!;
        Assert.That(error.Message, Does.Contain("trailer checksum mismatch"));
    }

    [TestCase(0UL)]
    [TestCase((ulong)long.MaxValue + 1)]
    public void Impossible_writer_epochs_are_refused_when_writing_and_when_reading(ulong epoch)
    {
        Assert.That(() => new WalObjectWriter(new ArrayBufferWriter<byte>(), epoch), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Internal));
        Assert.That(() => WalObjectCodec.EncodeFence(epoch), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Internal));

        // Stored with a valid checksum (as a buggy writer would), both are still rejected.
        var data = WalObjectWriter.Encode(SampleBatches(new Random(8), 1), writerEpoch: 1);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), epoch);
        var fence = WalObjectCodec.EncodeFence(1);
        BinaryPrimitives.WriteUInt64LittleEndian(fence.AsSpan(8), epoch);
        foreach (var bytes in new[] { WalTestFormat.Repair(data), WalTestFormat.Repair(fence) })
        {
            var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(bytes, Path, zeroByteIsFence: false))!;
            Assert.That((error.Kind, error.Message.Contains("impossible writer epoch", StringComparison.Ordinal)), Is.EqualTo((ErrorKind.Data, true)), error.Message);
        }
    }

    [Test]
    public void Version_1_data_objects_still_decode_without_an_epoch()
    {
        var batches = SampleBatches(new Random(9), 4);
        var v1 = WalTestFormat.EncodeV1(batches);
        Assert.That(v1, Has.Length.EqualTo(WalObjectWriter.Encode(batches, 1).Length - 8));
        var decoded = WalObjectCodec.Decode(v1, Path, zeroByteIsFence: false);
        Assert.That((decoded.Kind, decoded.FormatVersion, decoded.WriterEpoch), Is.EqualTo((WalObjectKind.Data, (ushort)1, (ulong?)null)));
        Assert.That(decoded.Batches.Select(b => b.Rows.ToList()), Is.EqualTo(batches));
    }

    [Test]
    public void Unknown_magic_is_a_data_error_naming_both_magics()
    {
        var bytes = WalObjectCodec.EncodeFence(1);
        bytes[3] = (byte)'X';
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(bytes, Path, zeroByteIsFence: true))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("bad magic").And.Contain("4c574c53").And.Contain("46574c53").And.Contain("offset=0"));
    }

    [Test]
    public void Empty_batches_and_bad_keys_are_rejected_when_writing()
    {
        var writer = new WalObjectWriter(new ArrayBufferWriter<byte>(), writerEpoch: 1);
        Assert.That(() => writer.AppendBatch([]), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Internal));
        Assert.That(() => writer.AppendBatch([RowEntry.Put(Array.Empty<byte>(), default, 1)]), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Invalid));
    }

    [TestCase(false, "wal format version 9", "versions 1 to 3")]
    [TestCase(true, "wal fence format version 9", "fence records of version 2 only")]
    public void A_newer_version_is_rejected_naming_both_versions(bool fence, string found, string supported)
    {
        var bytes = fence ? WalObjectCodec.EncodeFence(1) : WalObjectWriter.Encode(SampleBatches(new Random(3), 1), writerEpoch: 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 9);
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(bytes, Path, zeroByteIsFence: false))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain(found).And.Contain(supported).And.Contain(Path));
    }

    [Test]
    public void A_fence_record_claiming_version_1_is_rejected()
    {
        var bytes = WalObjectCodec.EncodeFence(1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 1);
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(WalTestFormat.Repair(bytes), Path, zeroByteIsFence: true))!;
        Assert.That(error.Message, Does.Contain("wal fence format version 1"));
    }

    [Test]
    public void Truncation_at_a_batch_boundary_is_detected()
    {
        var batches = SampleBatches(new Random(4), 3);
        var full = WalObjectWriter.Encode(batches, writerEpoch: 1);
        var two = WalObjectWriter.Encode(batches.Take(2), writerEpoch: 1);
        var cut = full.AsSpan(0, two.Length - WalObjectCodec.TrailerLength).ToArray();
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(cut, Path, zeroByteIsFence: false))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
    }

    /// <summary>Offset of the first row's flags byte in a current-version object: header, batch record header, row count.</summary>
    private const int FirstRowFlags = WalObjectCodec.HeaderLength + WalObjectCodec.BatchHeaderLength + 4;

    [Test]
    public void Version_3_data_objects_carry_range_deletes_between_other_rows()
    {
        List<List<RowEntry>> batches =
        [
            [RowEntry.Put("a"u8.ToArray(), "1"u8.ToArray(), 10)],
            [RowEntry.RangeDelete("a"u8.ToArray(), "a\0"u8.ToArray(), 11)],
            [RowEntry.RangeDelete(new byte[] { 0x00 }, new byte[] { 0xFF, 0xFF }, 12), RowEntry.Delete("z"u8.ToArray(), 12)],
            [RowEntry.RangeDelete(new byte[RowEntry.MaxKeyLength], (byte[])[.. new byte[RowEntry.MaxKeyLength - 1], 1], 13)],
        ];
        var bytes = WalObjectWriter.Encode(batches, writerEpoch: 5);
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)), Is.EqualTo(WalObjectCodec.CurrentVersion));
        Assert.That(WalObjectCodec.CurrentVersion, Is.EqualTo(3));
        var decoded = WalObjectCodec.Decode(bytes, Path, zeroByteIsFence: false);
        Assert.That((decoded.FormatVersion, decoded.WriterEpoch), Is.EqualTo(((ushort)3, (ulong?)5)));
        Assert.That(decoded.Batches.Select(b => b.Rows.ToList()), Is.EqualTo(batches));
        Assert.That(decoded.Batches[1].Rows[0].Kind, Is.EqualTo(RowKind.RangeDelete));
    }

    [TestCase(1)]
    [TestCase(2)]
    public void A_range_delete_in_a_version_1_or_2_object_is_a_data_error(int version)
    {
        List<List<RowEntry>> batches = [[RowEntry.Put("k"u8.ToArray(), "v"u8.ToArray(), 1)], [RowEntry.RangeDelete("b"u8.ToArray(), "d"u8.ToArray(), 2)]];
        var bytes = version == 1 ? WalTestFormat.EncodeV1(batches) : WalTestFormat.EncodeV2(batches, writerEpoch: 1);
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(bytes, Path, zeroByteIsFence: false))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("bad row flags 03").And.Contain($"version {version} object").And.Contain($"path={Path}").And.Match("offset=[0-9]+"));

        // Without the range delete, the same version reads.
        var withoutIt = version == 1 ? WalTestFormat.EncodeV1(batches.Take(1)) : WalTestFormat.EncodeV2(batches.Take(1), writerEpoch: 1);
        Assert.That(WalObjectCodec.Decode(withoutIt, Path, zeroByteIsFence: false).FormatVersion, Is.EqualTo(version));
    }

    [Test]
    public void A_malformed_range_delete_row_is_a_data_error()
    {
        // Rows the writer refuses, built as other kinds of the same shape and then given kind 3 behind a fixed checksum.
        var cases = new (RowEntry Row, byte Flags, string Reason)[]
        {
            (RowEntry.Put("b"u8.ToArray(), "d"u8.ToArray(), 1, expireAt: 5), 0x07, "has no expire time"),
            (RowEntry.Put("b"u8.ToArray(), ReadOnlyMemory<byte>.Empty, 1), 0x03, "end key of bad length 0"),
            (RowEntry.Put("b"u8.ToArray(), new byte[RowEntry.MaxKeyLength + 1], 1), 0x03, $"end key of bad length {RowEntry.MaxKeyLength + 1}"),
            (RowEntry.Put("b"u8.ToArray(), "b"u8.ToArray(), 1), 0x03, "does not sort after its start key"),
            (RowEntry.Put("b"u8.ToArray(), "a"u8.ToArray(), 1), 0x03, "does not sort after its start key"),
            (RowEntry.Put("ba"u8.ToArray(), "b"u8.ToArray(), 1), 0x03, "does not sort after its start key"),
        };
        foreach (var (row, flags, reason) in cases)
        {
            var bytes = WalObjectWriter.Encode([[row]], writerEpoch: 1);
            bytes[FirstRowFlags] = flags;
            var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(WalTestFormat.Repair(bytes), Path, zeroByteIsFence: false), reason)!;
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data), reason);
            Assert.That(error.Message, Does.Contain(reason).And.Contain($"path={Path}").And.Match("offset=[0-9]+"), reason);
        }
    }

    [Test]
    public void The_writer_refuses_range_deletes_that_are_empty_unordered_or_expiring()
    {
        var writer = new WalObjectWriter(new ArrayBufferWriter<byte>(), writerEpoch: 1);
        var b = "b"u8.ToArray();
        foreach (var end in new[] { Array.Empty<byte>(), "b"u8.ToArray(), "a"u8.ToArray(), new byte[RowEntry.MaxKeyLength + 1] })
        {
            Assert.That(() => writer.AppendBatch([RowEntry.RangeDelete(b, end, 1)]), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Invalid), $"end length {end.Length}");
        }

        Assert.That(() => writer.AppendBatch([new RowEntry(b, "c"u8.ToArray(), 1, RowKind.RangeDelete, expireAt: 9)]),
            Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Internal));
        Assert.That(writer.BatchCount, Is.Zero, "nothing was appended");
    }

    [Test]
    public void A_fence_record_claiming_version_3_is_rejected()
    {
        var bytes = WalObjectCodec.EncodeFence(1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 3);
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(WalTestFormat.Repair(bytes), Path, zeroByteIsFence: false))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("wal fence format version 3").And.Contain("fence records of version 2 only").And.Contain(Path));
    }
}
