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
    public void Batches_round_trip_in_order()
    {
        var seed = TestSeeds.Get(1);
        var batches = SampleBatches(new Random(seed), 20);
        var decoded = WalObjectCodec.Decode(WalObjectWriter.Encode(batches), Path);
        Assert.That(decoded.IsFence, Is.False);
        Assert.That(decoded.Batches.Select(b => b.Rows.ToList()), Is.EqualTo(batches), $"seed={seed}");
    }

    [Test]
    public void Incremental_writer_produces_the_same_bytes_as_one_shot_encoding()
    {
        var batches = SampleBatches(new Random(2), 5);
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new WalObjectWriter(buffer);
        foreach (var batch in batches)
        {
            var before = buffer.WrittenCount;
            writer.AppendBatch(batch.ToArray());
            Assert.That(buffer.WrittenCount - before, Is.EqualTo(WalObjectWriter.EncodedLength(batch.ToArray())));
        }

        writer.Finish();
        Assert.That(writer.Length, Is.EqualTo(buffer.WrittenCount));
        Assert.That((writer.BatchCount, writer.RowCount), Is.EqualTo((5, batches.Sum(b => (long)b.Count))));
        Assert.That(buffer.WrittenSpan.ToArray(), Is.EqualTo(WalObjectWriter.Encode(batches)));
    }

    [Test]
    public void A_zero_byte_object_is_a_fence_and_an_object_without_batches_is_not()
    {
        Assert.That(WalObjectCodec.Decode(ReadOnlyMemory<byte>.Empty, Path).IsFence, Is.True);
        var empty = WalObjectCodec.Decode(WalObjectWriter.Encode([]), Path);
        Assert.That((empty.IsFence, empty.Batches.Count), Is.EqualTo((false, 0)));
    }

    [Test]
    public void Empty_batches_and_bad_keys_are_rejected_when_writing()
    {
        var writer = new WalObjectWriter(new ArrayBufferWriter<byte>());
        Assert.That(() => writer.AppendBatch([]), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Internal));
        Assert.That(() => writer.AppendBatch([RowEntry.Put(Array.Empty<byte>(), default, 1)]), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Invalid));
    }

    [Test]
    public void A_newer_version_is_rejected_naming_both_versions()
    {
        var bytes = WalObjectWriter.Encode(SampleBatches(new Random(3), 1));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 9);
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(bytes, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("version 9").And.Contain("versions 1 to 1").And.Contain(Path));
    }

    [Test]
    public void Truncation_at_a_batch_boundary_is_detected()
    {
        var batches = SampleBatches(new Random(4), 3);
        var full = WalObjectWriter.Encode(batches);
        var two = WalObjectWriter.Encode(batches.Take(2));
        var cut = full.AsSpan(0, two.Length - WalObjectCodec.TrailerLength).ToArray();
        var error = Assert.Throws<SlateSharpException>(() => WalObjectCodec.Decode(cut, Path))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
    }
}
