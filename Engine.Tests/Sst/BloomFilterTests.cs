using System.Buffers;
using SlateSharp.Sst;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

public sealed class BloomFilterTests
{
    [Test]
    public void One_million_random_keys_give_no_false_negatives_and_at_most_two_percent_false_positives()
    {
        const int Keys = 1_000_000;
        var seed = TestSeeds.Get(41);
        var random = new Random(seed);
        var present = new byte[Keys * 16];
        random.NextBytes(present);
        var hashes = new ulong[Keys];
        for (var i = 0; i < Keys; i++)
        {
            hashes[i] = BloomFilter.Hash(present.AsSpan(i * 16, 16));
        }

        var output = new ArrayBufferWriter<byte>();
        BloomFilter.Encode(hashes, 10, output);
        var filter = BloomFilter.Decode(output.WrittenMemory, "compacted/bloom.sst", 0);
        Assert.That(filter.Probes, Is.EqualTo(7));

        for (var i = 0; i < Keys; i++)
        {
            if (!filter.MayContain(present.AsSpan(i * 16, 16)))
            {
                Assert.Fail($"false negative for key {i} (seed={seed})");
            }
        }

        // Absent keys are 17 bytes long, so none can collide with a present 16-byte key.
        var probe = new byte[17];
        var falsePositives = 0;
        for (var i = 0; i < Keys; i++)
        {
            random.NextBytes(probe);
            falsePositives += filter.MayContain(probe) ? 1 : 0;
        }

        var rate = falsePositives / (double)Keys;
        TestContext.Out.WriteLine($"bloom: keys={Keys} bits_per_key=10 probes={filter.Probes} false_positive_rate={rate:P3}");
        Assert.That(rate, Is.LessThanOrEqualTo(0.02), $"seed={seed}");
    }

    [Test]
    public void A_bad_filter_header_is_a_data_error()
    {
        var output = new ArrayBufferWriter<byte>();
        BloomFilter.Encode([1, 2, 3], 10, output);
        var bytes = output.WrittenSpan.ToArray();
        bytes[0] = 9;
        var crc = SlateSharp.Format.Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), crc);
        var error = Assert.Throws<SlateSharpException>(() => BloomFilter.Decode(bytes, "compacted/f.sst", 100))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("hash version 9").And.Contain("path=compacted/f.sst"));
    }

    [Test]
    public void A_filter_encoded_from_chunked_hashes_is_byte_for_byte_the_one_encoded_from_an_array()
    {
        var seed = TestSeeds.Get(43);
        var random = new Random(seed);
        var hashes = new ulong[20_000];
        var chunked = new SlateSharp.Common.ChunkedList<ulong>();
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = (ulong)random.NextInt64();
            chunked.Add(hashes[i]);
        }

        var fromArray = new ArrayBufferWriter<byte>();
        BloomFilter.Encode(hashes, 10, fromArray);
        var fromChunks = new ArrayBufferWriter<byte>();
        BloomFilter.EncodeChunks(chunked, 10, fromChunks);
        Assert.That(chunked.ChunkCount, Is.GreaterThan(1), "the hashes span several chunks");
        Assert.That(fromChunks.WrittenSpan.ToArray(), Is.EqualTo(fromArray.WrittenSpan.ToArray()), $"seed={seed}");
    }
}
