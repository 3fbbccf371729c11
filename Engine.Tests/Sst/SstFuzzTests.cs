using System.Buffers;
using System.Buffers.Binary;
using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>
/// Corruption fuzzing of every SST decoder; see <see cref="Fuzz"/>. Half the cases of most decoders get their
/// checksums recomputed after the mutation, so the structural checks behind them are exercised and a meaningful share
/// decodes. An unchanged input must give the original value; any other decoded value must be consistent: regions
/// re-encode to their own bytes, blocks iterate the same rows forwards and backwards and seek where a sorted row list
/// says, filters answer as an independent implementation of docs/format/sst.md does on the same bits.
/// </summary>
public sealed class SstFuzzTests
{
    private const string Path = "compacted/fuzz.sst";

    private static readonly List<RowEntry> Rows = TestRows.Random(new Random(7), 40, 2, maxKeyLength: 12, maxValueLength: 24);

    private static readonly byte[][] Probes = [.. Rows.Select(r => r.Key.ToArray()).Append([0]).Append([0x7F]).Append([0xFF, 0xFF])];

    private static byte[] WithChecksum(byte[] body)
    {
        var region = new byte[body.Length + 4];
        body.CopyTo(region, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(region.AsSpan(body.Length), Crc32C.Compute(body));
        return region;
    }

    /// <summary>Recomputes a region's trailing CRC-32C (stored blocks, filter, index and metadata all end with one).</summary>
    private static byte[] RepairTrailingChecksum(byte[] region) => region.Length >= 4 ? WithChecksum(region[..^4]) : region;

    [Test]
    public void Stored_blocks()
    {
        byte[][] valid = [BlockTests.BuildStored(Rows), BlockTests.BuildStored(Rows, CompressionCodec.Lz4), BlockTests.BuildStored(Rows, CompressionCodec.Zstd)];
        Fuzz.Run("stored block", TestSeeds.Get(101), random => Fuzz.MutateMaybeRepaired(random, valid[random.Next(valid.Length)], RepairTrailingChecksum), bytes =>
        {
            var block = Block.Decode(bytes, Path, 4096, 1 << 20);
            var rows = CheckBlock(block);
            Fuzz.Expect(!valid.Any(v => v.AsSpan().SequenceEqual(bytes)) || rows.SequenceEqual(Rows), "rows differ");
        }, minDecodedShare: 0.15);
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
        Fuzz.Run("raw block", TestSeeds.Get(102), random =>
        {
            var (mutated, description) = Fuzz.MutateAny(random, raw);
            var output = new ArrayBufferWriter<byte>();
            Block.WriteStored(mutated, CompressionCodec.None, 3, output, out _);
            return (output.WrittenSpan.ToArray(), description);
        }, bytes =>
        {
            var rows = CheckBlock(Block.Decode(bytes, Path, 0, 1 << 20));
            Fuzz.Expect(rows.Count > 0, "a decoded block without rows");
        }, minDecodedShare: 0.25);
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
        Fuzz.Run("index", TestSeeds.Get(103), random => Fuzz.MutateMaybeRepaired(random, region, RepairTrailingChecksum), bytes =>
        {
            var index = SstIndex.Decode(bytes, Path, dataEnd, dataEnd, entries.Length);
            for (var i = 0; i < entries.Length && bytes.AsSpan().SequenceEqual(region); i++)
            {
                Fuzz.Expect(index.OffsetOf(i) == entries[i].Offset && index.LengthOf(i) == entries[i].Length &&
                    index.LastSequenceOf(i) == entries[i].LastSequence && index.LastKeyOf(i).SequenceEqual(entries[i].LastKey), $"entry {i} differs");
            }

            CheckIndex(index, bytes, dataEnd);
        }, minDecodedShare: 0.05);
    }

    [Test]
    public void Index_blocks_behind_a_valid_checksum()
    {
        var (region, entries, dataEnd) = ValidIndex();
        var body = region[..^4];
        Fuzz.Run("index (checksum fixed)", TestSeeds.Get(104), random =>
        {
            var (mutated, description) = Fuzz.MutateAny(random, body);
            return (WithChecksum(mutated), description);
        }, bytes => CheckIndex(SstIndex.Decode(bytes, Path, dataEnd, dataEnd, entries.Length), bytes, dataEnd), minDecodedShare: 0.08);
    }

    [Test]
    public void Filters()
    {
        var keys = Enumerable.Range(0, 200).Select(i => BitConverter.GetBytes(i * 7919)).ToArray();
        var output = new ArrayBufferWriter<byte>();
        BloomFilter.Encode(keys.Select(k => BloomFilter.Hash(k)).ToArray(), 10, output);
        var region = output.WrittenSpan.ToArray();
        var probes = Enumerable.Range(0, 400).Select(i => BitConverter.GetBytes(i * 31)).Concat(keys).ToArray();
        Fuzz.Run("filter", TestSeeds.Get(105), random => Fuzz.MutateMaybeRepaired(random, region, RepairTrailingChecksum), bytes =>
        {
            var filter = BloomFilter.Decode(bytes, Path, 0);
            foreach (var probe in probes)
            {
                Fuzz.Expect(filter.MayContain(probe) == ReferenceMayContain(bytes, probe), "answer differs from the documented probe scheme");
            }

            Fuzz.Expect(!bytes.AsSpan().SequenceEqual(region) || keys.All(k => filter.MayContain(k)), "a false negative on the original filter");
        }, minDecodedShare: 0.25);
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
        Fuzz.Run("metadata", TestSeeds.Get(106), random => Fuzz.MutateMaybeRepaired(random, region, RepairTrailingChecksum), bytes =>
        {
            var decoded = SstMetadata.Decode(bytes, Path, footer with { MetadataLength = bytes.Length });
            Fuzz.Expect(!bytes.AsSpan().SequenceEqual(region) || decoded == metadata with { FirstKey = decoded.FirstKey, LastKey = decoded.LastKey }, "metadata differs");
            var again = new ArrayBufferWriter<byte>();
            decoded.Encode(again);
            Fuzz.Expect(again.WrittenSpan.SequenceEqual(bytes), "metadata does not re-encode to its own bytes");
        }, minDecodedShare: 0.06);
    }

    [Test]
    public async Task Footers()
    {
        var (bytes, footer, _) = await ValidSstAsync();
        var valid = bytes[^SstFooter.Length..];
        Fuzz.Run("footer", TestSeeds.Get(107), random => Fuzz.MutateMaybeRepaired(random, valid, RepairFooter), mutated =>
        {
            var decoded = SstFooter.Read(mutated, bytes.Length, Path);
            Fuzz.Expect(!mutated.AsSpan().SequenceEqual(valid) || decoded == footer, "footer differs");
            var again = new byte[SstFooter.Length];
            decoded.Write(again);
            Fuzz.Expect(again.AsSpan().SequenceEqual(mutated), "footer does not re-encode to its own bytes");
        }, minDecodedShare: 0.05);
    }

    [Test]
    public async Task Whole_ssts_through_the_reader()
    {
        var lz4Options = new SstBuilderOptions { BlockSize = 256, Codec = CompressionCodec.Lz4 };
        var (lz4, _, _) = await ValidSstAsync(lz4Options);
        var (plain, _, _) = await ValidSstAsync();
        var repairLz4 = RepairSst(lz4);
        var repairPlain = RepairSst(plain);
        Fuzz.Run("sst via reader", TestSeeds.Get(108), random =>
        {
            var usePlain = random.Next(2) == 0;
            return Fuzz.MutateMaybeRepaired(random, usePlain ? plain : lz4, usePlain ? repairPlain : repairLz4);
        }, bytes => ReadWhole(bytes, bytes.Length % 2 == 0 ? 64 : 64 << 10, bytes.AsSpan().SequenceEqual(plain) || bytes.AsSpan().SequenceEqual(lz4)),
        minDecodedShare: 0.15);
    }

    [Test]
    public async Task Sst_tails_through_the_reader()
    {
        var (bytes, footer, _) = await ValidSstAsync();
        var dataEnd = (int)footer.DataEnd;
        var tail = bytes[dataEnd..];
        var repair = RepairSst(bytes);
        Fuzz.Run("sst tail via reader", TestSeeds.Get(109), random =>
        {
            var (mutated, description) = Fuzz.MutateMaybeRepaired(random, tail, t => repair([.. bytes.AsSpan(0, dataEnd), .. t])[dataEnd..]);
            return ([.. bytes.AsSpan(0, dataEnd), .. mutated], description);
        }, whole => ReadWhole(whole, whole.Length % 2 == 0 ? 100 : 64 << 10, whole.AsSpan().SequenceEqual(bytes)), minDecodedShare: 0.06);
    }

    /// <summary>
    /// Reads a whole (possibly mutated) SST. Unchanged: exactly <see cref="Rows"/>, and a point read finds its row.
    /// Otherwise the scan holds as many rows as the metadata says (the reader checks that a full scan does), and rows
    /// in order must survive a rebuild.
    /// </summary>
    private static void ReadWhole(byte[] bytes, int tailReadSize, bool unchanged)
    {
        var store = new InMemoryObjectStore();
        var path = ObjectPath.Parse(Path);
        store.PutAsync(path, bytes, PutMode.Overwrite).AsTask().GetAwaiter().GetResult();

        // The in-memory store completes synchronously, so this runs on the calling thread (allocation accounting).
        var reader = SstReader.OpenAsync(store, path, null, tailReadSize).AsTask().GetAwaiter().GetResult();
        var rows = SstTestHelpers.ReadAllAsync(reader).GetAwaiter().GetResult();
        Fuzz.Expect(rows.Count == reader.Info.EntryCount, "a full scan's row count differs from the metadata's");
        if (unchanged)
        {
            Fuzz.Expect(rows.SequenceEqual(Rows), "rows differ");
            var newest = Rows[Rows.Count / 2];
            var got = reader.GetAsync(newest.Key).AsTask().GetAwaiter().GetResult();
            Fuzz.Expect(got is { } row && row.Key.Span.SequenceEqual(newest.Key.Span), "get differs");
            return;
        }

        if (IsStrictlySorted(rows))
        {
            var (rebuilt, _) = SstTestHelpers.BuildAsync(rows, new SstBuilderOptions { BlockSize = 256 }).GetAwaiter().GetResult();
            var rereadStore = new InMemoryObjectStore();
            rereadStore.PutAsync(path, rebuilt, PutMode.Overwrite).AsTask().GetAwaiter().GetResult();
            var reread = SstReader.OpenAsync(rereadStore, path, null).AsTask().GetAwaiter().GetResult();
            Fuzz.Expect(SstTestHelpers.ReadAllAsync(reread).GetAwaiter().GetResult().SequenceEqual(rows), "rows do not survive a rebuild");
        }
    }

    /// <summary>
    /// Iterates a decoded block forwards and backwards (which must agree), and when its rows are in internal order,
    /// checks seeks against the row list and that a block rebuilt from the rows decodes to them. Returns the rows.
    /// </summary>
    private static List<RowEntry> CheckBlock(Block block)
    {
        var forward = new List<RowEntry>();
        var it = new BlockIterator(block);
        while (it.MoveNext())
        {
            forward.Add(it.Current);
        }

        var backward = new List<RowEntry>();
        it.Reset(block);
        while (it.MovePrevious())
        {
            backward.Add(it.Current);
        }

        backward.Reverse();
        Fuzz.Expect(backward.SequenceEqual(forward), "backward iteration differs from forward iteration");
        if (!IsStrictlySorted(forward))
        {
            return forward;
        }

        foreach (var probe in Probes)
        {
            var first = forward.FindIndex(r => KeyComparer.Compare(r.Key.Span, r.Sequence, probe, ulong.MaxValue) >= 0);
            it.Reset(block);
            Fuzz.Expect(it.Seek(probe) == (first >= 0) && (first < 0 || it.Current == forward[first]), "seek differs from the row list");
            var last = forward.FindLastIndex(r => KeyComparer.CompareKeys(r.Key.Span, probe) <= 0);
            it.Reset(block);
            Fuzz.Expect(it.SeekForPrevious(probe) == (last >= 0) && (last < 0 || it.Current == forward[last]), "seek for previous differs from the row list");
        }

        var rebuilt = Block.Decode(BlockTests.BuildStored(forward), Path, 0, 1 << 20);
        var reread = new List<RowEntry>();
        var again = new BlockIterator(rebuilt);
        while (again.MoveNext())
        {
            reread.Add(again.Current);
        }

        Fuzz.Expect(reread.SequenceEqual(forward), "rows do not survive a rebuild");
        return forward;
    }

    /// <summary>A decoded index must re-encode to its own bytes and find, for each block's last row, that block.</summary>
    private static void CheckIndex(SstIndex index, byte[] bytes, long dataEnd)
    {
        var entries = Enumerable.Range(0, index.Count)
            .Select(i => new SstIndex.Entry(index.OffsetOf(i), index.LengthOf(i), index.LastSequenceOf(i), index.LastKeyOf(i).ToArray()))
            .ToArray();
        var output = new ArrayBufferWriter<byte>();
        SstIndex.Encode(entries, output);
        Fuzz.Expect(output.WrittenSpan.SequenceEqual(bytes), "index does not re-encode to its own bytes");
        Fuzz.Expect(entries.Length == 0 || entries[^1].Offset + entries[^1].Length == dataEnd, "blocks do not end at the data end");
        for (var i = 0; i < entries.Length; i++)
        {
            Fuzz.Expect(index.FindBlock(entries[i].LastKey, entries[i].LastSequence) == i, $"block {i}'s last row is not found in block {i}");
        }
    }

    private static bool IsStrictlySorted(List<RowEntry> rows)
    {
        for (var i = 1; i < rows.Count; i++)
        {
            if (KeyComparer.Compare(rows[i - 1].Key.Span, rows[i - 1].Sequence, rows[i].Key.Span, rows[i].Sequence) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>MayContain per docs/format/sst.md ("Filter"), written from the document, on a filter region's bytes.</summary>
    private static bool ReferenceMayContain(byte[] region, byte[] key)
    {
        var probes = region[1];
        var bits = region.AsSpan(2, region.Length - 2 - 4);
        var m = (ulong)bits.Length * 8;
        var h = XxHash64.Hash(key);
        var d = ulong.RotateRight(h, 33);
        for (var j = 0; j < probes; j++)
        {
            var bit = (ulong)((UInt128)h * m >> 64);
            if ((bits[(int)(bit >> 3)] & (1 << (int)(bit & 7))) == 0)
            {
                return false;
            }

            h += d;
            d += (ulong)j + 1;
        }

        return true;
    }

    private static byte[] RepairFooter(byte[] footer)
    {
        if (footer.Length != SstFooter.Length)
        {
            return footer;
        }

        var repaired = (byte[])footer.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(repaired.AsSpan(20), Crc32C.Compute(repaired.AsSpan(0, 20), repaired.AsSpan(24)));
        return repaired;
    }

    /// <summary>
    /// A repair for in-place mutations of <paramref name="valid"/> (same length): recomputes the checksum of every data
    /// block, the filter, the index, the metadata and the footer where the original layout puts them. Inputs of another
    /// length are left as they are.
    /// </summary>
    private static Func<byte[], byte[]> RepairSst(byte[] valid)
    {
        var footer = SstFooter.Read(valid.AsSpan(valid.Length - SstFooter.Length), valid.Length, Path);
        var metadata = SstMetadata.Decode(valid.AsSpan((int)footer.MetadataOffset, footer.MetadataLength), Path, footer);
        var index = SstIndex.Decode(valid.AsSpan((int)metadata.IndexOffset, metadata.IndexLength), Path, metadata.IndexOffset, footer.DataEnd, metadata.BlockCount);
        var regions = Enumerable.Range(0, index.Count).Select(i => (Offset: (int)index.OffsetOf(i), Length: index.LengthOf(i))).ToList();
        if (metadata.HasFilter)
        {
            regions.Add(((int)metadata.FilterOffset, metadata.FilterLength));
        }

        regions.Add(((int)metadata.IndexOffset, metadata.IndexLength));
        regions.Add(((int)footer.MetadataOffset, footer.MetadataLength));
        return bytes =>
        {
            if (bytes.Length != valid.Length)
            {
                return bytes;
            }

            var repaired = (byte[])bytes.Clone();
            foreach (var (offset, length) in regions)
            {
                var body = repaired.AsSpan(offset, length - 4);
                BinaryPrimitives.WriteUInt32LittleEndian(repaired.AsSpan(offset + length - 4), Crc32C.Compute(body));
            }

            return [.. repaired.AsSpan(0, repaired.Length - SstFooter.Length), .. RepairFooter(repaired[^SstFooter.Length..])];
        };
    }
}
