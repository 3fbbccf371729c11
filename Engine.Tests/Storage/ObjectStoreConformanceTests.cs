using System.Text;
using SlateSharp.Storage;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage;

/// <summary>The contract of <see cref="IObjectStore"/>, run against every backend in <see cref="StoreTargets"/>.</summary>
[TestFixtureSource(typeof(StoreTargets), nameof(StoreTargets.All))]
public sealed class ObjectStoreConformanceTests(StoreTarget target) : StoreTargetFixture(target)
{

    private static ObjectPath P(string path) => ObjectPath.Parse(path);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Test]
    public async Task Put_then_get_returns_the_same_bytes_and_version()
    {
        var content = Bytes("hello, object storage");
        var put = await Store.PutAsync(P("dir/sub/object.bin"), content, PutMode.Overwrite);

        var got = await Store.GetAsync(P("dir/sub/object.bin"), ByteRange.All);
        var head = await Store.HeadAsync(P("dir/sub/object.bin"));

        Assert.That(put.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(got, Is.Not.Null);
        Assert.That(got!.Data.ToArray(), Is.EqualTo(content));
        Assert.That(got.Offset, Is.Zero);
        Assert.That(got.Metadata.Size, Is.EqualTo(content.Length));
        Assert.That(got.Metadata.Path.Value, Is.EqualTo("dir/sub/object.bin"));
        Assert.That(head!.Size, Is.EqualTo(content.Length));
        Assert.That(head.Version, Is.EqualTo(put.Version));
        Assert.That(got.Metadata.Version, Is.EqualTo(put.Version));
    }

    [Test]
    public async Task Missing_objects_read_as_null()
    {
        Assert.That(await Store.GetAsync(P("nothing/here"), ByteRange.All), Is.Null);
        Assert.That(await Store.HeadAsync(P("nothing/here")), Is.Null);
        Assert.That(await Store.GetAsync(P("nothing/here"), ByteRange.Suffix(10)), Is.Null);
    }

    [TestCase(0, 0, 0, 0)]
    [TestCase(0, 1, 0, 1)]
    [TestCase(10, 20, 10, 20)]
    [TestCase(999, 1, 999, 1)]
    [TestCase(999, 10, 999, 1)]
    [TestCase(990, 100, 990, 10)]
    [TestCase(1000, 0, 1000, 0)]
    [TestCase(1000, 5, 1000, 0)]
    public async Task Ranged_reads_at_the_edges_are_exact_or_clipped(long offset, long length, long expectedStart, long expectedLength)
    {
        var content = new byte[1000];
        PatternStream.Fill(content, 0, 7);
        await Store.PutAsync(P("ranged"), content, PutMode.Overwrite);

        var got = await Store.GetAsync(P("ranged"), ByteRange.FromOffset(offset, length));

        Assert.That(got!.Offset, Is.EqualTo(expectedStart));
        Assert.That(got.Data.ToArray(), Is.EqualTo(content.AsSpan((int)expectedStart, (int)expectedLength).ToArray()));
        Assert.That(got.Metadata.Size, Is.EqualTo(1000));
    }

    [TestCase(0, 1000, 1000)]
    [TestCase(10, 20, 20)]
    [TestCase(990, 100, 10)]
    [TestCase(1000, 5, 0)]
    public async Task Reads_into_a_callers_buffer_return_the_range_in_that_buffer(long offset, int length, int expectedLength)
    {
        var content = new byte[1000];
        PatternStream.Fill(content, 0, 11);
        await Store.PutAsync(P("into"), content, PutMode.Overwrite);
        var buffer = new byte[length + 7];

        var got = await ReadsInto.GetIntoAsync(Store, P("into"), offset, buffer.AsMemory(3, length));

        Assert.That(got!.Offset, Is.EqualTo(offset));
        Assert.That(got.Data.ToArray(), Is.EqualTo(content.AsSpan((int)offset, expectedLength).ToArray()));
        Assert.That(buffer.AsSpan(3, expectedLength).ToArray(), Is.EqualTo(got.Data.ToArray()), "the bytes are in the caller's buffer");
        Assert.That(got.Metadata.Size, Is.EqualTo(1000));
        Assert.That(got.Metadata.Path.Value, Is.EqualTo("into"));
        Assert.That(await ReadsInto.GetIntoAsync(Store, P("nothing/here"), 0, buffer), Is.Null);
    }

    [TestCase(10, 990)]
    [TestCase(0, 1000)]
    [TestCase(1, 999)]
    [TestCase(1000, 0)]
    [TestCase(5000, 0)]
    public async Task Suffix_reads_return_the_tail(long length, long expectedStart)
    {
        var content = new byte[1000];
        PatternStream.Fill(content, 0, 9);
        await Store.PutAsync(P("suffix"), content, PutMode.Overwrite);

        var got = await Store.GetAsync(P("suffix"), ByteRange.Suffix(length));

        Assert.That(got!.Offset, Is.EqualTo(expectedStart));
        Assert.That(got.Data.ToArray(), Is.EqualTo(content.AsSpan((int)expectedStart).ToArray()));
    }

    [Test]
    public async Task Reads_from_an_offset_to_the_end()
    {
        var content = Bytes("0123456789");
        await Store.PutAsync(P("from"), content, PutMode.Overwrite);

        var got = await Store.GetAsync(P("from"), ByteRange.From(4));

        Assert.That(Encoding.UTF8.GetString(got!.Data.Span), Is.EqualTo("456789"));
    }

    [Test]
    public async Task A_range_starting_beyond_the_end_is_invalid()
    {
        await Store.PutAsync(P("short"), Bytes("abc"), PutMode.Overwrite);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await Store.GetAsync(P("short"), ByteRange.FromOffset(4, 1)));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain("short"));
    }

    [Test]
    public async Task Empty_objects_round_trip()
    {
        var put = await Store.PutAsync(P("empty"), ReadOnlyMemory<byte>.Empty, PutMode.CreateIfAbsent);

        var all = await Store.GetAsync(P("empty"), ByteRange.All);
        var suffix = await Store.GetAsync(P("empty"), ByteRange.Suffix(8));
        var head = await Store.HeadAsync(P("empty"));

        Assert.That(put.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(all!.Data.Length, Is.Zero);
        Assert.That(suffix!.Data.Length, Is.Zero);
        Assert.That(head!.Size, Is.Zero);
        Assert.That((await Store.PutAsync(P("empty"), ReadOnlyMemory<byte>.Empty, PutMode.CreateIfAbsent)).Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
    }

    [Test]
    public async Task Large_objects_stream_in_and_read_back_in_ranges()
    {
        const long Size = (64L << 20) + 12345;
        const ulong Seed = 0xC0FFEE;
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var put = await Store.PutAsync(P("large/object.sst"), new PatternStream(Size, Seed), PutMode.Overwrite);

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(put.Outcome, Is.EqualTo(PutOutcome.Stored));
        if (Target.StreamsLargeObjects)
        {
            Assert.That(allocated, Is.LessThan(24L << 20), "a streamed upload must not buffer the whole object");
        }

        Assert.That((await Store.HeadAsync(P("large/object.sst")))!.Size, Is.EqualTo(Size));
        var expected = new byte[4 << 20];
        for (long offset = 0; offset < Size; offset += expected.Length)
        {
            var got = await Store.GetAsync(P("large/object.sst"), ByteRange.FromOffset(offset, expected.Length));
            var length = (int)Math.Min(expected.Length, Size - offset);
            PatternStream.Fill(expected.AsSpan(0, length), offset, Seed);
            Assert.That(got!.Data.Length, Is.EqualTo(length));
            Assert.That(got.Data.Span.SequenceEqual(expected.AsSpan(0, length)), Is.True, $"bytes differ in the range at offset {offset}");
        }
    }

    [Test]
    public async Task Overwrite_replaces_and_changes_the_version()
    {
        var first = await Store.PutAsync(P("replace"), Bytes("aaaa"), PutMode.Overwrite);
        var second = await Store.PutAsync(P("replace"), Bytes("bbbb"), PutMode.Overwrite);

        var got = await Store.GetAsync(P("replace"), ByteRange.All);

        Assert.That(Encoding.UTF8.GetString(got!.Data.Span), Is.EqualTo("bbbb"));
        Assert.That(second.Version, Is.Not.EqualTo(first.Version), "same size, new content: the version must change");
    }

    [Test]
    public async Task Create_if_absent_on_an_existing_object_reports_already_exists_and_writes_nothing()
    {
        var first = await Store.PutAsync(P("wal/00000000000000000001.sst"), Bytes("first"), PutMode.CreateIfAbsent);
        var second = await Store.PutAsync(P("wal/00000000000000000001.sst"), Bytes("second"), PutMode.CreateIfAbsent);

        var got = await Store.GetAsync(P("wal/00000000000000000001.sst"), ByteRange.All);

        Assert.That(first.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(second.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(second.Version, Is.Null);
        Assert.That(Encoding.UTF8.GetString(got!.Data.Span), Is.EqualTo("first"));
        Assert.That(got.Metadata.Version, Is.EqualTo(first.Version));
    }

    [Test]
    public async Task Create_if_absent_from_a_stream_obeys_the_condition()
    {
        using var first = new MemoryStream(Bytes("from a stream"));
        using var second = new MemoryStream(Bytes("another"));

        var won = await Store.PutAsync(P("streamed"), first, PutMode.CreateIfAbsent);
        var lost = await Store.PutAsync(P("streamed"), second, PutMode.CreateIfAbsent);

        Assert.That(won.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(lost.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(Encoding.UTF8.GetString((await Store.GetAsync(P("streamed"), ByteRange.All))!.Data.Span), Is.EqualTo("from a stream"));
    }

    [Test]
    public async Task If_version_matches_replaces_only_the_expected_version()
    {
        var v1 = await Store.PutAsync(P("gc/boundary"), Bytes("1"), PutMode.CreateIfAbsent);
        var v2 = await Store.PutAsync(P("gc/boundary"), Bytes("2"), PutMode.IfVersionMatches(v1.Version!.Value));
        var stale = await Store.PutAsync(P("gc/boundary"), Bytes("3"), PutMode.IfVersionMatches(v1.Version!.Value));
        var missing = await Store.PutAsync(P("gc/absent"), Bytes("4"), PutMode.IfVersionMatches(v1.Version!.Value));

        Assert.That(v2.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(stale.Outcome, Is.EqualTo(PutOutcome.VersionMismatch));
        Assert.That(missing.Outcome, Is.EqualTo(PutOutcome.VersionMismatch));
        Assert.That(Encoding.UTF8.GetString((await Store.GetAsync(P("gc/boundary"), ByteRange.All))!.Data.Span), Is.EqualTo("2"));
        Assert.That(await Store.HeadAsync(P("gc/absent")), Is.Null);
        Assert.That((await Store.HeadAsync(P("gc/boundary")))!.Version, Is.EqualTo(v2.Version));
    }

    [Test]
    public async Task Exactly_one_of_32_concurrent_creates_wins_every_round()
    {
        const int Racers = 32;
        const int Rounds = 50;
        for (var round = 0; round < Rounds; round++)
        {
            var path = P($"race/{round:D3}");
            using var start = new ManualResetEventSlim();
            var racers = Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await Store.PutAsync(path, Bytes($"racer {i} of round {round}"), PutMode.CreateIfAbsent);
            })).ToArray();
            start.Set();
            var results = await Task.WhenAll(racers);

            var winners = Enumerable.Range(0, Racers).Where(i => results[i].Outcome == PutOutcome.Stored).ToList();
            Assert.That(winners, Has.Count.EqualTo(1), $"round {round}: exactly one create-if-absent must win");
            Assert.That(results.Count(r => r.Outcome == PutOutcome.AlreadyExists), Is.EqualTo(Racers - 1));
            var stored = await Store.GetAsync(path, ByteRange.All);
            Assert.That(Encoding.UTF8.GetString(stored!.Data.Span), Is.EqualTo($"racer {winners[0]} of round {round}"), $"round {round}");
        }
    }

    [Test]
    public async Task Exactly_one_of_16_concurrent_version_matched_replaces_wins()
    {
        const int Racers = 16;
        for (var round = 0; round < 5; round++)
        {
            var path = P($"cas/{round}");
            var initial = await Store.PutAsync(path, Bytes("initial"), PutMode.CreateIfAbsent);
            using var start = new ManualResetEventSlim();
            var racers = Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await Store.PutAsync(path, Bytes($"replacer {i}"), PutMode.IfVersionMatches(initial.Version!.Value));
            })).ToArray();
            start.Set();
            var results = await Task.WhenAll(racers);

            var winners = Enumerable.Range(0, Racers).Where(i => results[i].Outcome == PutOutcome.Stored).ToList();
            Assert.That(winners, Has.Count.EqualTo(1), $"round {round}");
            Assert.That(results.Count(r => r.Outcome == PutOutcome.VersionMismatch), Is.EqualTo(Racers - 1));
            var stored = await Store.GetAsync(path, ByteRange.All);
            Assert.That(Encoding.UTF8.GetString(stored!.Data.Span), Is.EqualTo($"replacer {winners[0]}"));
        }
    }

    [Test]
    public async Task List_returns_paths_in_ordinal_order_filtered_by_prefix()
    {
        string[] paths = ["b/x", "ab", "a0", "a/c/d", "a/b", "a-c", "manifest/00000000000000000002.manifest", "manifest/00000000000000000010.manifest", "wal/00000000000000000001.sst"];
        foreach (var path in paths)
        {
            await Store.PutAsync(P(path), Bytes(path), PutMode.Overwrite);
        }

        Assert.That(await ListAsync(string.Empty), Is.EqualTo(paths.Order(StringComparer.Ordinal).ToList()));
        Assert.That(await ListAsync("a"), Is.EqualTo(new[] { "a-c", "a/b", "a/c/d", "a0", "ab" }));
        Assert.That(await ListAsync("a/"), Is.EqualTo(new[] { "a/b", "a/c/d" }));
        Assert.That(await ListAsync("a/c"), Is.EqualTo(new[] { "a/c/d" }));
        Assert.That(await ListAsync("manifest/0000000000000000001"), Is.EqualTo(new[] { "manifest/00000000000000000010.manifest" }));
        Assert.That(await ListAsync("zzz"), Is.Empty);
        Assert.That(await ListAsync("nothing/"), Is.Empty);
        var listed = await Store.ListAsync("wal/").FirstAsync();
        Assert.That(listed.Size, Is.EqualTo("wal/00000000000000000001.sst".Length));
        Assert.That(listed.Version, Is.EqualTo((await Store.HeadAsync(P("wal/00000000000000000001.sst")))!.Version));
    }

    [Test]
    public async Task List_pages_through_more_objects_than_one_page_holds()
    {
        // Paging backends get more than a page; directory walks get enough to cover many entries per directory.
        var count = (Target.ListPageSize ?? 70) + 50;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await Store.PutAsync(P($"page/{i:D5}"), Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), PutMode.Overwrite, ct));

        var listed = await ListAsync("page/");

        Assert.That(listed, Is.EqualTo(Enumerable.Range(0, count).Select(i => $"page/{i:D5}").ToList()));
    }

    [Test]
    public async Task Delete_removes_and_deleting_a_missing_object_is_fine()
    {
        await Store.PutAsync(P("doomed/one"), Bytes("x"), PutMode.Overwrite);

        await Store.DeleteAsync(P("doomed/one"));
        await Store.DeleteAsync(P("doomed/one"));
        await Store.DeleteAsync(P("never/existed"));

        Assert.That(await Store.GetAsync(P("doomed/one"), ByteRange.All), Is.Null);
        Assert.That(await ListAsync("doomed/"), Is.Empty);
        Assert.That((await Store.PutAsync(P("doomed/one"), Bytes("again"), PutMode.CreateIfAbsent)).Outcome, Is.EqualTo(PutOutcome.Stored));
    }

    [TestCase("", new[] { "other/t", "trailing/x", "trailing/y/z", "trailingx" })]
    [TestCase("trailing/", new[] { "trailing/x", "trailing/y/z" })]
    [TestCase("trailing/y/", new[] { "trailing/y/z" })]
    public async Task Empty_and_slash_terminated_prefixes_are_valid_and_list_what_they_cover(string prefix, string[] expected)
    {
        foreach (var path in new[] { "trailingx", "trailing/y/z", "other/t", "trailing/x" })
        {
            await Store.PutAsync(P(path), Bytes(path), PutMode.Overwrite);
        }

        Assert.That(await ListAsync(prefix), Is.EqualTo(expected));
    }

    [TestCase("/leading")]
    [TestCase("a//b")]
    [TestCase("a/../b")]
    [TestCase("./a")]
    [TestCase("a\\b")]
    [TestCase(".slatesharp-tmp-x")]
    public void Invalid_prefixes_are_rejected_before_reaching_the_store(string prefix)
    {
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await ListAsync(prefix));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
    }

    private async Task<List<string>> ListAsync(string prefix)
    {
        var result = new List<string>();
        await foreach (var item in Store.ListAsync(prefix))
        {
            result.Add(item.Path.Value);
        }

        return result;
    }
}
