using System.Buffers;
using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>Corruption fuzzing of every SST decoder; see <see cref="Fuzz"/>.</summary>
public sealed class SstFuzzTests
{
    private const string Path = "compacted/fuzz.sst";

    private static readonly List<RowEntry> Rows = TestRows.Random(new Random(7), 40, 2, maxKeyLength: 12, maxValueLength: 24);

    private static List<RowEntry> ReadBlock(Block block)
    {
        var rows = new List<RowEntry>();
        var it = new BlockIterator(block);
        while (it.MoveNext())
        {
            rows.Add(it.Current);
        }

        return rows;
    }

    private static byte[] WithChecksum(byte[] body)
    {
        var region = new byte[body.Length + 4];
        body.CopyTo(region, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(region.AsSpan(body.Length), Crc32C.Compute(body));
        return region;
    }

    [Test]
    public void Stored_blocks()
    {
        byte[][] valid = [BlockTests.BuildStored(Rows), BlockTests.BuildStored(Rows, CompressionCodec.Lz4), BlockTests.BuildStored(Rows, CompressionCodec.Zstd)];
        Fuzz.Run("stored block", TestSeeds.Get(101), random => Fuzz.Mutate(random, valid[random.Next(valid.Length)]), bytes =>
        {
            var block = Block.Decode(bytes, Path, 4096, 1 << 20);
            Fuzz.Expect(ReadBlock(block).SequenceEqual(Rows), "rows differ");
        });
    }

    [Test]
    public void Raw_blocks_behind_a_valid_checksum()
    {
        using var builder = new BlockBuilder(4);
        foreach (var row in Rows)
        {
            builder.Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt);
        }

        var raw = builder.Finish().ToArray();
        var probes = Rows.Select(r => r.Key.ToArray()).Append([0]).Append([0xFF, 0xFF]).ToArray();
        Fuzz.Run("raw block", TestSeeds.Get(102), random =>
        {
            var (mutated, description) = Fuzz.Mutate(random, raw);
            var output = new ArrayBufferWriter<byte>();
            Block.WriteStored(mutated, CompressionCodec.None, 3, output, out _);
            return (output.WrittenSpan.ToArray(), description);
        }, bytes =>
        {
            var block = Block.Decode(bytes, Path, 0, 1 << 20);
            ReadBlock(block);
            var it = new BlockIterator(block);
            while (it.MovePrevious())
            {
            }

            foreach (var probe in probes)
            {
                it.Seek(probe);
                it.SeekForPrevious(probe);
            }
        });
    }

    private static (byte[] Region, SstIndex.Entry[] Entries, long DataEnd) ValidIndex()
    {
        var entries = new SstIndex.Entry[30];
        long offset = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new SstIndex.Entry(offset, 100 + i, (ulong)(1000 - i), System.Text.Encoding.ASCII.GetBytes($"k{i:D3}"));
            offset += 100 + i;
        }

        var output = new ArrayBufferWriter<byte>();
        SstIndex.Encode(entries, output);
        return (output.WrittenSpan.ToArray(), entries, offset);
    }

    [Test]
    public void Index_blocks()
    {
        var (region, entries, dataEnd) = ValidIndex();
        Fuzz.Run("index", TestSeeds.Get(103), random => Fuzz.Mutate(random, region), bytes =>
        {
            var index = SstIndex.Decode(bytes, Path, dataEnd, dataEnd, entries.Length);
            for (var i = 0; i < entries.Length; i++)
            {
                Fuzz.Expect(index.OffsetOf(i) == entries[i].Offset && index.LengthOf(i) == entries[i].Length &&
                    index.LastSequenceOf(i) == entries[i].LastSequence && index.LastKeyOf(i).SequenceEqual(entries[i].LastKey), $"entry {i} differs");
            }
        });
    }

    [Test]
    public void Index_blocks_behind_a_valid_checksum()
    {
        var (region, entries, dataEnd) = ValidIndex();
        var body = region[..^4];
        Fuzz.Run("index (checksum fixed)", TestSeeds.Get(104), random =>
        {
            var (mutated, description) = Fuzz.Mutate(random, body);
            return (WithChecksum(mutated), description);
        }, bytes =>
        {
            var index = SstIndex.Decode(bytes, Path, dataEnd, dataEnd, entries.Length);
            index.FindBlock("k010"u8);
        });
    }

    [Test]
    public void Filters()
    {
        var keys = Enumerable.Range(0, 200).Select(i => BitConverter.GetBytes(i * 7919)).ToArray();
        var output = new ArrayBufferWriter<byte>();
        BloomFilter.Encode(keys.Select(k => BloomFilter.Hash(k)).ToArray(), 10, output);
        var region = output.WrittenSpan.ToArray();
        var original = BloomFilter.Decode(region, Path, 0);
        var probes = Enumerable.Range(0, 400).Select(i => BitConverter.GetBytes(i * 31)).ToArray();
        var expected = probes.Select(p => original.MayContain(p)).ToArray();
        Fuzz.Run("filter", TestSeeds.Get(105), random =>
        {
            var (mutated, description) = Fuzz.Mutate(random, region);
            return random.Next(2) == 0 ? (mutated, description) : (WithChecksum(mutated.Length >= 4 ? mutated[..^4] : mutated), description + ", checksum fixed");
        }, bytes =>
        {
            var filter = BloomFilter.Decode(bytes, Path, 0);
            var same = bytes.AsSpan().SequenceEqual(region);
            var answers = probes.Select(p => filter.MayContain(p)).ToArray();
            Fuzz.Expect(!same || answers.SequenceEqual(expected), "answers differ");
        });
    }

    private static async Task<(byte[] Bytes, SstFooter Footer, SstMetadata Metadata)> ValidSstAsync(SstBuilderOptions? options = null)
    {
        var (bytes, _) = await SstTestHelpers.BuildAsync(Rows, options ?? new SstBuilderOptions { BlockSize = 256 });
        var footer = SstFooter.Read(bytes.AsSpan(bytes.Length - SstFooter.Length), bytes.Length, Path);
        var metadata = SstMetadata.Decode(bytes.AsSpan((int)footer.MetadataOffset, footer.MetadataLength), Path, footer);
        return (bytes, footer, metadata);
    }

    [Test]
    public async Task Metadata_regions()
    {
        var (_, footer, metadata) = await ValidSstAsync();
        var output = new ArrayBufferWriter<byte>();
        metadata.Encode(output);
        var region = output.WrittenSpan.ToArray();
        Fuzz.Run("metadata", TestSeeds.Get(106), random =>
        {
            var (mutated, description) = Fuzz.Mutate(random, region);
            return random.Next(2) == 0 ? (mutated, description) : (WithChecksum(mutated.Length >= 4 ? mutated[..^4] : mutated), description + ", checksum fixed");
        }, bytes =>
        {
            var decoded = SstMetadata.Decode(bytes, Path, footer with { MetadataLength = bytes.Length });
            Fuzz.Expect(!bytes.AsSpan().SequenceEqual(region) || (decoded with { FirstKey = [], LastKey = [] }) == (metadata with { FirstKey = [], LastKey = [] }), "metadata differs");
        });
    }

    [Test]
    public async Task Footers()
    {
        var (bytes, footer, _) = await ValidSstAsync();
        var valid = bytes[^SstFooter.Length..];
        Fuzz.Run("footer", TestSeeds.Get(107), random => Fuzz.Mutate(random, valid), mutated =>
        {
            var decoded = SstFooter.Read(mutated, bytes.Length, Path);
            Fuzz.Expect(decoded == footer, "footer differs");
        });
    }

    private static void ReadWhole(byte[] bytes, int tailReadSize, IReadOnlyList<RowEntry> expected)
    {
        var store = new InMemoryObjectStore();
        var path = ObjectPath.Parse(Path);
        store.PutAsync(path, bytes, PutMode.Overwrite).AsTask().GetAwaiter().GetResult();

        // The in-memory store completes synchronously, so this runs on the calling thread (allocation accounting).
        var reader = SstReader.OpenAsync(store, path, null, tailReadSize).AsTask().GetAwaiter().GetResult();
        var rows = SstTestHelpers.ReadAllAsync(reader).GetAwaiter().GetResult();
        Fuzz.Expect(rows.SequenceEqual(expected), "rows differ");
        var newest = expected[expected.Count / 2];
        var got = reader.GetAsync(newest.Key).AsTask().GetAwaiter().GetResult();
        Fuzz.Expect(got is { } row && row.Key.Span.SequenceEqual(newest.Key.Span), "get differs");
    }

    [Test]
    public async Task Whole_ssts_through_the_reader()
    {
        var (lz4, _, _) = await ValidSstAsync(new SstBuilderOptions { BlockSize = 256, Codec = CompressionCodec.Lz4 });
        var (plain, _, _) = await ValidSstAsync();
        Fuzz.Run("sst via reader", TestSeeds.Get(108), random =>
        {
            var (mutated, description) = Fuzz.Mutate(random, random.Next(2) == 0 ? plain : lz4);
            return (mutated, description);
        }, bytes => ReadWhole(bytes, bytes.Length % 2 == 0 ? 64 : 64 << 10, Rows));
    }

    [Test]
    public async Task Sst_tails_through_the_reader()
    {
        var (bytes, footer, _) = await ValidSstAsync();
        var dataEnd = (int)footer.DataEnd;
        var tail = bytes[dataEnd..];
        Fuzz.Run("sst tail via reader", TestSeeds.Get(109), random =>
        {
            var (mutated, description) = Fuzz.Mutate(random, tail);
            return ([.. bytes.AsSpan(0, dataEnd), .. mutated], description);
        }, whole => ReadWhole(whole, whole.Length % 2 == 0 ? 100 : 64 << 10, Rows));
    }
}
