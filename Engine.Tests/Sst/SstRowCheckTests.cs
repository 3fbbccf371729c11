using System.Buffers;
using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Sst;

/// <summary>
/// The checks behind the checksums: an SST whose bytes are all intact but whose content is inconsistent (what a
/// writer bug would store) is refused where a read meets the inconsistency, never read with undefined results: rows
/// out of order in a block, a block that disagrees with its index entry, a row outside the metadata's sequence range,
/// a full scan that finds another number of rows than the metadata records. And an unknown format version says
/// whether the footer may simply be corrupt.
/// </summary>
public sealed class SstRowCheckTests
{
    private const string Name = "compacted/checked.sst";

    /// <summary>Small blocks of full keys (restart interval 1): every row of one block has the same length.</summary>
    private static readonly SstBuilderOptions Options = new() { BlockSize = 256, RestartInterval = 1, BloomBitsPerKey = 0 };

    private static readonly List<RowEntry> Rows = TestRows.Sequential(60);

    [Test]
    public void Rows_out_of_order_fail_the_walk_that_meets_them()
    {
        var rows = Rows.Take(8).ToList();
        (rows[3], rows[4]) = (rows[4], rows[3]);
        var block = Block.Decode(BlockTests.BuildStored(rows, restartInterval: 1), "compacted/b.sst", 0, 1 << 20);
        var it = new BlockIterator(block);
        var walked = 0;

        var error = Assert.Throws<SlateSharpException>(() =>
        {
            while (it.MoveNext())
            {
                walked++;
            }
        })!;

        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("rows out of order").And.Contain("path=compacted/b.sst"));
        Assert.That(walked, Is.EqualTo(4), "the rows before the swapped pair read");
    }

    [TestCase(1, Description = "prefix-compressed rows")]
    [TestCase(16, Description = "full keys only at the first row")]
    public void A_key_repeated_with_a_higher_sequence_is_out_of_order(int restartInterval)
    {
        List<RowEntry> rows =
        [
            RowEntry.Put("apple"u8.ToArray(), "1"u8.ToArray(), 3),
            RowEntry.Put("apple"u8.ToArray(), "2"u8.ToArray(), 3),
        ];
        var it = new BlockIterator(Block.Decode(BlockTests.BuildStored(rows, restartInterval: restartInterval), "p", 0, 1 << 20));

        Assert.That(it.SeekToFirst(), Is.True);
        var error = Assert.Throws<SlateSharpException>(() => it.MoveNext())!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("rows out of order"));
    }

    [Test]
    public void A_key_that_is_a_prefix_of_the_previous_one_is_out_of_order()
    {
        List<RowEntry> rows =
        [
            RowEntry.Put("applesauce"u8.ToArray(), "1"u8.ToArray(), 3),
            RowEntry.Put("apple"u8.ToArray(), "2"u8.ToArray(), 4),
        ];
        var it = new BlockIterator(Block.Decode(BlockTests.BuildStored(rows), "p", 0, 1 << 20));

        Assert.That(it.SeekToFirst(), Is.True);
        Assert.That(() => it.MoveNext(), Throws.InstanceOf<SlateSharpException>().With.Message.Contains("rows out of order"));
    }

    [Test]
    public async Task A_block_with_rows_out_of_order_behind_a_valid_checksum_fails_every_read_of_it()
    {
        var (bytes, store, path) = await BuildAsync();
        var reader = await SstReader.OpenAsync(store, path, null);
        var block = 2;
        var rows = await RowsOfBlockAsync(reader, block);
        Assert.That(rows, Has.Count.GreaterThanOrEqualTo(3));
        (rows[0], rows[1]) = (rows[1], rows[0]);
        var stored = BlockTests.BuildStored(rows, restartInterval: 1);
        Assert.That(stored, Has.Length.EqualTo(reader.Index.LengthOf(block)), "the same rows in another order take the same bytes");
        Splice(bytes, reader.Index.OffsetOf(block), stored);
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var fresh = await SstReader.OpenAsync(store, path, null);

        // The last row of the block is untouched: a seek for it alone would not walk over the swapped pair.
        foreach (var key in new[] { rows[^1].Key, rows[0].Key })
        {
            var error = Assert.ThrowsAsync<SlateSharpException>(async () => await fresh.GetAsync(key))!;
            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
            Assert.That(error.Message, Does.Contain("rows out of order").And.Contain($"path={Name} store={store.Location}"));
        }

        Assert.That(await fresh.GetAsync(Rows[0].Key), Is.Not.Null, "other blocks still read");
        Assert.That(await fresh.GetAsync(Rows[^1].Key), Is.Not.Null, "other blocks still read");
        Assert.That(async () => await SstTestHelpers.ReadAllAsync(fresh), Throws.InstanceOf<SlateSharpException>().With.Message.Contains("rows out of order"));
    }

    [Test]
    public async Task Blocks_that_disagree_with_their_index_entries_are_refused_and_the_others_read()
    {
        var (bytes, store, path) = await BuildAsync();
        var reader = await SstReader.OpenAsync(store, path, null);
        var block = 3;
        var next = (await RowsOfBlockAsync(reader, block + 1)).Select(r => r.Key.ToArray()).ToList();

        // Block 3's entry now names a key inside block 4: block 3's last row differs from it, and block 4's first row
        // does not sort after it. The index itself still ascends and passes its checks.
        var entries = Entries(reader.Index);
        entries[block] = entries[block] with { LastKey = next[next.Count / 2] };
        Splice(bytes, IndexOffset(bytes), EncodeIndex(entries));
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var fresh = await SstReader.OpenAsync(store, path, null);

        var last = Assert.ThrowsAsync<SlateSharpException>(async () => await fresh.ReadBlockAsync(block))!;
        Assert.That(last.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(last.Message, Does.Contain("last row differs from its index entry").And.Contain($"store={store.Location}"));
        var first = Assert.ThrowsAsync<SlateSharpException>(async () => await fresh.ReadBlockAsync(block + 1))!;
        Assert.That(first.Message, Does.Contain("does not sort after block 3"));
        Assert.That((await fresh.ReadBlockAsync(block - 1)).Offset, Is.EqualTo(reader.Index.OffsetOf(block - 1)), "the other blocks read");
    }

    [Test]
    public async Task A_row_outside_the_metadata_sequence_range_is_refused()
    {
        var (bytes, store, path) = await BuildAsync();
        var reader = await SstReader.OpenAsync(store, path, null);
        RewriteMetadata(bytes, m => m with { MaxSequence = m.MaxSequence - 1 });
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var fresh = await SstReader.OpenAsync(store, path, null);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await fresh.GetAsync(Rows[^1].Key))!;

        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain("row sequence outside the sst's range").And.Contain($"sequence={Rows[^1].Sequence}"));
        Assert.That(await fresh.GetAsync(Rows[0].Key), Is.Not.Null, "a block within the range reads");
        Assert.That(reader.Info.MaxSequence, Is.EqualTo(Rows[^1].Sequence));
    }

    [TestCase(1)]
    [TestCase(-1)]
    public async Task A_full_scan_that_finds_another_row_count_than_the_metadata_fails(int difference)
    {
        var (bytes, store, path) = await BuildAsync();
        RewriteMetadata(bytes, m => m with { EntryCount = m.EntryCount + difference, PutCount = m.PutCount + difference });
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var reader = await SstReader.OpenAsync(store, path, null);
        var iterator = reader.CreateIterator();
        var scanned = 0;

        var error = Assert.ThrowsAsync<SlateSharpException>(async () =>
        {
            while (await iterator.MoveNextAsync())
            {
                scanned++;
            }
        })!;

        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain($"scanned={Rows.Count} entry_count={Rows.Count + difference}").And.Contain($"path={Name} store="));
        Assert.That(scanned, Is.EqualTo(Rows.Count), "every row was returned before the count was checked");
        Assert.That(await reader.GetAsync(Rows[7].Key), Is.Not.Null, "point reads do not depend on the count");

        // A scan that does not start at the first row cannot know the count, and does not claim to.
        var partial = reader.CreateIterator();
        Assert.That(await partial.SeekAsync(Rows[1].Key), Is.True);
        var rest = 1;
        while (await partial.MoveNextAsync())
        {
            rest++;
        }

        Assert.That(rest, Is.EqualTo(Rows.Count - 1));
    }

    [TestCase(false, true, Description = "a flipped version field: the checksum fails as version 1 computes it")]
    [TestCase(true, false, Description = "a footer of a newer version with a matching checksum")]
    public async Task An_unknown_version_says_whether_the_footer_may_just_be_corrupt(bool validChecksum, bool hinted)
    {
        var (bytes, store, path) = await BuildAsync();
        var footer = Footer(bytes);
        var span = bytes.AsSpan(bytes.Length - SstFooter.Length);
        if (validChecksum)
        {
            (footer with { Version = 2 }).Write(span);
        }
        else
        {
            span[25] ^= 0x20;
        }

        await store.PutAsync(path, bytes, PutMode.Overwrite);
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SstReader.OpenAsync(store, path, null))!;

        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.StartWith($"unsupported sst format version {(validChecksum ? 2 : 0x2001)}").And.Contain("this build reads versions 1 to 1"));
        Assert.That(error.Message.Contains("or a corrupt footer", StringComparison.Ordinal), Is.EqualTo(hinted));
    }

    private static async Task<(byte[] Bytes, IObjectStore Store, ObjectPath Path)> BuildAsync()
    {
        var (bytes, info) = await SstTestHelpers.BuildAsync(Rows, Options);
        Assert.That(info.BlockCount, Is.GreaterThanOrEqualTo(6), "several blocks");
        var store = new InMemoryObjectStore("checks");
        var path = ObjectPath.Parse(Name);
        await store.PutAsync(path, bytes, PutMode.Overwrite);
        return (bytes, store, path);
    }

    private static async Task<List<RowEntry>> RowsOfBlockAsync(SstReader reader, int block)
    {
        var it = new BlockIterator(await reader.ReadBlockAsync(block));
        var rows = new List<RowEntry>();
        while (it.MoveNext())
        {
            rows.Add(it.Current);
        }

        return rows;
    }

    private static void Splice(byte[] bytes, long offset, byte[] replacement)
    {
        var original = bytes.AsSpan((int)offset, replacement.Length).ToArray();
        Assert.That(original, Is.Not.EqualTo(replacement), "the replacement changes something");
        replacement.CopyTo(bytes, offset);
    }

    private static SstFooter Footer(byte[] bytes) => SstFooter.Read(bytes.AsSpan(bytes.Length - SstFooter.Length), bytes.Length, Name);

    private static SstMetadata Metadata(byte[] bytes)
    {
        var footer = Footer(bytes);
        return SstMetadata.Decode(bytes.AsSpan((int)footer.MetadataOffset, footer.MetadataLength), Name, footer);
    }

    private static long IndexOffset(byte[] bytes) => Metadata(bytes).IndexOffset;

    private static List<SstIndex.Entry> Entries(SstIndex index) =>
        [.. Enumerable.Range(0, index.Count).Select(i => new SstIndex.Entry(index.OffsetOf(i), index.LengthOf(i), index.LastSequenceOf(i), index.LastKeyOf(i).ToArray()))];

    private static byte[] EncodeIndex(List<SstIndex.Entry> entries)
    {
        var output = new ArrayBufferWriter<byte>();
        SstIndex.Encode(entries, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Re-encodes the metadata with a change that keeps its length, and a valid checksum.</summary>
    private static void RewriteMetadata(byte[] bytes, Func<SstMetadata, SstMetadata> change)
    {
        var footer = Footer(bytes);
        var output = new ArrayBufferWriter<byte>();
        change(Metadata(bytes)).Encode(output);
        Assert.That(output.WrittenCount, Is.EqualTo(footer.MetadataLength));
        Splice(bytes, footer.MetadataOffset, output.WrittenSpan.ToArray());
    }
}
