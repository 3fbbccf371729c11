using System.Text;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Db;

/// <summary>
/// Corruption of a real database, one object at a time: bit flips, byte overwrites and truncations (to zero, to half,
/// by one byte) at seeded positions in the newest manifest, in WAL objects of the replay range and in every region of
/// an L0 SST (data block, filter, index, metadata, footer). Each read that touches the corrupt object must fail with a
/// Data error naming the object and the store; every other read must keep working; no read may return a wrong value.
/// </summary>
/// <remarks>
/// The database: three L0 SSTs with key families that overlap only where an overwrite or a delete makes them
/// (SST 0 holds a-000..a-039 and b-000..b-009; SST 1 rewrites b-*, deletes a-035..a-039 and holds c-*; SST 2 holds
/// d-*), five WAL objects not yet flushed (new keys, an overwrite of an SST key, a delete of one), several manifest
/// versions, and a crash. Between cases the store is put back as it was: objects the case created are deleted and the
/// corrupt object is restored. The outcome of each case is printed (the corruption matrix).
/// </remarks>
[TestFixtureSource(typeof(StoreTargets), nameof(StoreTargets.Heavy))]
public sealed class CorruptionTests(StoreTarget target) : StoreTargetFixture(target)
{
    private const string Db = "db";

    private static readonly string[] AbsentKeys = ["0", "a-0005", "a-zzz", "b-0095", "c-0395", "d-zzz", "e", "w-0005", "z"];

    private static readonly (string Start, string End)[] ScanRanges =
        [("", ""), ("a-", "b-"), ("a-010", "a-020"), ("b-", "c-"), ("c-", "d-"), ("d-", "e-"), ("w-", "x-")];

    private enum Corruption
    {
        BitFlip,
        ByteOverwrite,
        TruncateToZero,
        TruncateToHalf,
        TruncateByOne,
    }

    /// <summary>What a read is allowed to do.</summary>
    private enum Expect
    {
        /// <summary>It never reads the corrupt bytes: it must return the right answer.</summary>
        Succeed,

        /// <summary>It needs the corrupt bytes: it must fail with a Data error naming the object.</summary>
        Fail,

        /// <summary>Whether it reads the corrupt bytes depends on a bloom filter's false positive: right answer or Data error.</summary>
        Either,
    }

    private static DbOptions Options(CompressionCodec codec = CompressionCodec.None, bool skipCorruptWalTail = false) => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(5),
        RandomSeed = 9,
        BlockSizeBytes = 256,
        Compression = codec,
        SkipCorruptWalTail = skipCorruptWalTail,
    };

    [Test]
    public async Task A_corrupt_newest_manifest_fails_the_open_naming_it_and_the_store_and_never_falls_back_to_an_older_one()
    {
        var random = new Random(TestSeeds.Get(9101));
        var built = await BuildAsync();
        var newest = built.Baseline.Where(p => p.StartsWith($"{Db}/{ManifestStore.Prefix}", StringComparison.Ordinal)).Max(StringComparer.Ordinal)!;
        Assert.That(built.Baseline.Count(p => p.StartsWith($"{Db}/{ManifestStore.Prefix}", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(4), "several manifest versions");
        var original = await ReadAsync(newest);
        Corruption[] kinds = [Corruption.BitFlip, Corruption.BitFlip, Corruption.ByteOverwrite, Corruption.ByteOverwrite, Corruption.TruncateToZero, Corruption.TruncateToHalf, Corruption.TruncateByOne];

        foreach (var kind in kinds)
        {
            var (bytes, what) = Corrupt(random, original, kind, (0, original.Length));
            var description = $"manifest {Relative(newest)}: {what}";
            await Store.PutAsync(ObjectPath.Parse(newest), bytes, PutMode.Overwrite);

            var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(Store, Db, Options()), description)!;

            Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data), $"{description}: {error.Message}");
            Assert.That(error.Message, Does.Contain($"{Relative(newest)} store={built.Location}"), description);
            Assert.That(await ListAsync(), Is.EquivalentTo(built.Baseline), $"{description}: a failed open writes nothing, so nothing is built on an older manifest");
            Report(description, $"open fails: Data \"{error.Message}\"");
            await RestoreAsync(built, newest, original);
        }

        await AssertIntactAsync(built);
    }

    [Test]
    public async Task A_corrupt_wal_object_in_the_replay_range_fails_the_open_naming_it_and_only_a_corrupt_newest_one_can_be_skipped()
    {
        var random = new Random(TestSeeds.Get(9102));
        var built = await BuildAsync();
        var newest = built.WalTail.Count - 1;
        var older = random.Next(newest);
        Corruption[] kinds = [Corruption.BitFlip, Corruption.ByteOverwrite, Corruption.TruncateToZero, Corruption.TruncateToHalf, Corruption.TruncateByOne];

        foreach (var index in new[] { newest, older })
        {
            var wal = built.WalTail[index];
            var path = $"{Db}/{WalPaths.PathOf(wal.Id)}";
            var relative = WalPaths.PathOf(wal.Id).Value;
            var original = await ReadAsync(path);
            foreach (var kind in kinds)
            {
                var (bytes, what) = Corrupt(random, original, kind, (0, original.Length));
                var description = $"wal {relative} ({(index == newest ? "newest" : "not newest")}, holds {wal.Key}): {what}";
                await Store.PutAsync(ObjectPath.Parse(path), bytes, PutMode.Overwrite);

                var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(Store, Db, Options()), description)!;

                Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data), $"{description}: {error.Message}");
                Assert.That(error.Message, Does.Contain(relative).And.Contain($"store={built.Location}").And.Contain("SkipCorruptWalTail"), description);
                await RestoreAsync(built, null, null);

                string skipOutcome;
                if (index == newest)
                {
                    var db = await SlateSharp.Db.OpenAsync(Store, Db, Options(skipCorruptWalTail: true));
                    Assert.That(db.Recovery.SkippedWalObjects.Select(s => (s.Path, s.Size)), Is.EqualTo(new[] { (relative, (long)bytes.Length) }), description);
                    var expected = new SortedDictionary<string, string?>(built.Final, StringComparer.Ordinal) { [wal.Key] = wal.Previous };
                    foreach (var key in expected.Keys.Concat(AbsentKeys))
                    {
                        Assert.That(Text(await db.GetAsync(Bytes(key))), Is.EqualTo(expected.GetValueOrDefault(key)), $"{description}: {key} after skipping");
                    }

                    await db.SimulateCrashAsync();
                    await db.DisposeAsync();
                    skipOutcome = $"with SkipCorruptWalTail: opens, skips it (size={bytes.Length}), only {wal.Key} is lost";
                }
                else
                {
                    var next = WalPaths.PathOf(built.WalTail[index + 1].Id).Value;
                    var skipping = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(Store, Db, Options(skipCorruptWalTail: true)), description)!;
                    Assert.That(skipping.Kind, Is.EqualTo(ErrorKind.Data), $"{description}: {skipping.Message}");
                    Assert.That(skipping.Message, Does.Contain(relative).And.Contain(next).And.Contain($"store={built.Location}"), description);
                    skipOutcome = "with SkipCorruptWalTail: open fails too, naming it and the later object that holds writes";
                }

                Report(description, $"open fails: Data \"{error.Message}\"; {skipOutcome}");
                await RestoreAsync(built, path, original);
            }
        }

        await AssertIntactAsync(built);
    }

    [TestCase(CompressionCodec.None)]
    [TestCase(CompressionCodec.Lz4)]
    public async Task A_corrupt_sst_fails_exactly_the_reads_that_touch_it_and_every_other_read_is_right(CompressionCodec codec)
    {
        var random = new Random(TestSeeds.Get(codec == CompressionCodec.None ? 9103 : 9104));
        var built = await BuildAsync(codec);
        var cases = new List<(string Region, Corruption Kind)>();
        foreach (var region in new[] { "data block", "filter", "index", "metadata", "footer" })
        {
            cases.Add((region, Corruption.BitFlip));
            cases.Add((region, Corruption.ByteOverwrite));
        }

        cases.AddRange([("object", Corruption.TruncateToZero), ("object", Corruption.TruncateToHalf), ("object", Corruption.TruncateByOne)]);

        foreach (var (region, kind) in cases)
        {
            var index = random.Next(built.L0.Count);
            var sst = built.L0[index];
            int? block = region == "data block" ? random.Next(sst.Blocks.Length) : null;
            var span = region switch
            {
                "data block" => sst.Blocks[block!.Value],
                "filter" => sst.Filter,
                "index" => sst.Index,
                "metadata" => sst.Metadata,
                "footer" => sst.Footer,
                _ => (0L, sst.Original.Length),
            };
            var (bytes, what) = Corrupt(random, sst.Original, kind, span);
            var description = $"sst {sst.Relative} (L0 #{index}, {codec}) {region}{(block is { } b ? $" {b} of {sst.Blocks.Length}" : "")}: {what}";
            await Store.PutAsync(ObjectPath.Parse(sst.Path), bytes, PutMode.Overwrite);

            var db = await SlateSharp.Db.OpenAsync(Store, Db, Options(codec));
            var gets = await CheckGetsAsync(db, built, index, block, description);
            var scans = await CheckScansAsync(db, built, index, block, description);
            await db.SimulateCrashAsync();
            await db.DisposeAsync();
            Report(description, $"opens; gets {gets.Summary}; scans {scans.Summary}; Data \"{gets.Sample ?? scans.Sample}\"");
            await RestoreAsync(built, sst.Path, sst.Original);
        }

        await AssertIntactAsync(built);
    }

    /// <summary>Every key written and some absent ones: each get does what <see cref="ClassifyGet"/> allows.</summary>
    private static async Task<(string Summary, string? Sample)> CheckGetsAsync(SlateSharp.Db db, Built built, int corrupt, int? block, string description)
    {
        int failed = 0, right = 0, eitherFailed = 0, eitherRight = 0;
        string? sample = null;
        foreach (var key in built.Final.Keys.Concat(AbsentKeys))
        {
            var expect = ClassifyGet(built, key, corrupt, block);
            byte[]? got = null;
            SlateSharpException? error = null;
            try
            {
                got = await db.GetAsync(Bytes(key));
            }
            catch (SlateSharpException e)
            {
                error = e;
            }

            if (error is not null)
            {
                Assert.That(expect, Is.Not.EqualTo(Expect.Succeed), $"{description}: get {key} does not touch the corrupt sst but failed: {error.Message}");
                AssertNamesSst(error, built, corrupt, $"{description}: get {key}");
                sample ??= error.Message;
                if (expect == Expect.Fail)
                {
                    failed++;
                }
                else
                {
                    eitherFailed++;
                }
            }
            else
            {
                Assert.That(expect, Is.Not.EqualTo(Expect.Fail), $"{description}: get {key} needs the corrupt bytes but returned {Text(got) ?? "null"}");
                Assert.That(Text(got), Is.EqualTo(built.Final.GetValueOrDefault(key)), $"{description}: get {key} returned a wrong value");
                if (expect == Expect.Succeed)
                {
                    right++;
                }
                else
                {
                    eitherRight++;
                }
            }
        }

        return ($"{failed} failed as required, {right} right, {eitherFailed + eitherRight} filter-dependent ({eitherFailed} failed, {eitherRight} right)", sample);
    }

    /// <summary>
    /// Scans over several ranges, each doing what <see cref="ClassifyScan"/> allows; the full scan always reads the
    /// corrupt bytes, so every case has at least one read that must fail.
    /// </summary>
    private static async Task<(string Summary, string? Sample)> CheckScansAsync(SlateSharp.Db db, Built built, int corrupt, int? block, string description)
    {
        int failed = 0, right = 0;
        string? sample = null;
        foreach (var (start, end) in ScanRanges)
        {
            var expect = ClassifyScan(built, start, end, corrupt, block);
            var what = $"{description}: scan [{start}, {end})";
            var rows = new List<(string, string)>();
            SlateSharpException? error = null;
            try
            {
                await foreach (var row in db.ScanAsync(RangeOf(start, end)))
                {
                    rows.Add((Encoding.UTF8.GetString(row.Key.Span), Encoding.UTF8.GetString(row.Value.Span)));
                }
            }
            catch (SlateSharpException e)
            {
                error = e;
            }

            if (error is not null)
            {
                Assert.That(expect, Is.Not.EqualTo(Expect.Succeed), $"{what} does not touch the corrupt sst but failed: {error.Message}");
                AssertNamesSst(error, built, corrupt, what);
                sample ??= error.Message;
                failed++;
            }
            else
            {
                Assert.That(expect, Is.Not.EqualTo(Expect.Fail), $"{what} needs the corrupt bytes but returned {rows.Count} rows");
                var expected = built.Final
                    .Where(kv => kv.Value is not null && InRange(kv.Key, start, end))
                    .Select(kv => (kv.Key, kv.Value!));
                Assert.That(rows, Is.EqualTo(expected), $"{what} returned wrong rows");
                right++;
            }
        }

        return ($"{failed} failed, {right} right", sample);
    }

    /// <summary>
    /// Walks the read path as the design says (memtable, then L0 newest first, each SST only where its key range
    /// covers the key): a corrupt SST whose tail is damaged fails every get that reaches it; one with a damaged data
    /// block fails the gets whose newest version is in that block, and may fail (filter false positive) those it
    /// does not hold.
    /// </summary>
    private static Expect ClassifyGet(Built built, string key, int corrupt, int? block)
    {
        if (built.WalTail.Any(w => w.Key == key))
        {
            return Expect.Succeed;
        }

        var either = false;
        for (var i = 0; i < built.L0.Count; i++)
        {
            var sst = built.L0[i];
            if (string.CompareOrdinal(key, sst.First) < 0 || string.CompareOrdinal(key, sst.Last) > 0)
            {
                continue;
            }

            var holds = sst.BlockOf.TryGetValue(key, out var holder);
            if (i == corrupt && (block is null || (holds && holder == block)))
            {
                return Expect.Fail;
            }

            if (holds)
            {
                break;
            }

            either |= i == corrupt;
        }

        return either ? Expect.Either : Expect.Succeed;
    }

    /// <summary>A scan opens every SST its range overlaps and reads every block holding a row in the range.</summary>
    private static Expect ClassifyScan(Built built, string start, string end, int corrupt, int? block)
    {
        var sst = built.L0[corrupt];
        var overlaps = (start.Length == 0 || string.CompareOrdinal(start, sst.Last) <= 0) && (end.Length == 0 || string.CompareOrdinal(end, sst.First) > 0);
        if (!overlaps)
        {
            return Expect.Succeed;
        }

        return block is null || sst.BlockOf.Any(kv => kv.Value == block && InRange(kv.Key, start, end)) ? Expect.Fail : Expect.Either;
    }

    private static void AssertNamesSst(SlateSharpException error, Built built, int corrupt, string what)
    {
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Data), $"{what}: {error.Message}");
        Assert.That(error.Message, Does.Contain($"{built.L0[corrupt].Relative} store={built.Location}"), what);
    }

    private static bool InRange(string key, string start, string end) =>
        string.CompareOrdinal(key, start) >= 0 && (end.Length == 0 || string.CompareOrdinal(key, end) < 0);

    private static (byte[] Bytes, string What) Corrupt(Random random, byte[] original, Corruption kind, (long Start, int Length) region)
    {
        var bytes = original.ToArray();
        switch (kind)
        {
            case Corruption.BitFlip:
            {
                var at = (int)region.Start + random.Next(region.Length);
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                return (bytes, $"bit {bit} of byte {at} flipped");
            }

            case Corruption.ByteOverwrite:
            {
                var count = random.Next(1, Math.Min(8, region.Length) + 1);
                var at = (int)region.Start + random.Next(region.Length - count + 1);
                for (var i = 0; i < count; i++)
                {
                    bytes[at + i] ^= (byte)random.Next(1, 256);
                }

                return (bytes, $"{count} byte(s) at {at} overwritten");
            }

            case Corruption.TruncateToZero:
                return ([], $"truncated to 0 bytes (from {original.Length})");
            case Corruption.TruncateToHalf:
                return (original[..(original.Length / 2)], $"truncated to {original.Length / 2} bytes (from {original.Length})");
            default:
                return (original[..^1], $"truncated by one byte (from {original.Length})");
        }
    }

    private async Task<Built> BuildAsync(CompressionCodec codec = CompressionCodec.None)
    {
        var db = await SlateSharp.Db.OpenAsync(Store, Db, Options(codec));
        var final = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        var generation = 0;

        async Task PutAsync(string key, WriteOptions options)
        {
            var value = string.Concat(Enumerable.Repeat($"{key}/{generation};", 3));
            await db.PutAsync(Bytes(key), Bytes(value), options);
            final[key] = value;
        }

        async Task DeleteAsync(string key, WriteOptions options)
        {
            await db.DeleteAsync(Bytes(key), options);
            final[key] = null;
        }

        async Task FlushAsync()
        {
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            generation++;
        }

        for (var i = 0; i < 40; i++)
        {
            await PutAsync($"a-{i:D3}", WriteOptions.NoWait);
        }

        for (var i = 0; i < 10; i++)
        {
            await PutAsync($"b-{i:D3}", WriteOptions.NoWait);
        }

        await FlushAsync();
        for (var i = 0; i < 10; i++)
        {
            await PutAsync($"b-{i:D3}", WriteOptions.NoWait);
        }

        for (var i = 0; i < 40; i++)
        {
            await PutAsync($"c-{i:D3}", WriteOptions.NoWait);
        }

        for (var i = 35; i < 40; i++)
        {
            await DeleteAsync($"a-{i:D3}", WriteOptions.NoWait);
        }

        await FlushAsync();
        for (var i = 0; i < 40; i++)
        {
            await PutAsync($"d-{i:D3}", WriteOptions.NoWait);
        }

        await FlushAsync();

        // The WAL tail: one durable write per WAL object, the newest a key of its own.
        var tail = new List<WalWrite>();
        foreach (var (key, delete) in new[] { ("w-000", false), ("d-001", false), ("c-001", true), ("w-001", false), ("w-002", false) })
        {
            var previous = final.GetValueOrDefault(key);
            await (delete ? DeleteAsync(key, WriteOptions.Default) : PutAsync(key, WriteOptions.Default));
            tail.Add(new WalWrite(db.Wal.NextId - 1, key, previous));
        }

        Assert.That(tail.Select(w => w.Id), Is.Unique.And.Ordered, "each tail write is a WAL object of its own");
        Assert.That(tail[0].Id, Is.GreaterThan(db.Manifest.Manifest.ReplayAfterWalId), "the tail is in the replay range");
        var location = db.Location;
        var l0 = new List<SstFacts>();
        foreach (var handle in db.Manifest.Manifest.L0)
        {
            l0.Add(await FactsAsync(handle));
        }

        Assert.That(l0.Select(s => (s.First, s.Last)), Is.EqualTo(new[] { ("d-000", "d-039"), ("a-035", "c-039"), ("a-000", "b-009") }), "L0 newest first");
        Assert.That(l0.Select(s => s.Blocks.Length), Has.All.GreaterThanOrEqualTo(3), "several data blocks per sst");
        await db.SimulateCrashAsync();
        await db.DisposeAsync();
        return new Built(location, final, tail, l0, await ListAsync());
    }

    private async Task<SstFacts> FactsAsync(SstHandle handle)
    {
        var relative = SstPaths.PathOf(handle.Id);
        var path = $"{Db}/{relative}";
        var original = await ReadAsync(path);
        var reader = await SstReader.OpenAsync(Store, ObjectPath.Parse(path), null);
        var blocks = new (long, int)[reader.Index.Count];
        var blockOf = new Dictionary<string, int>();
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = (reader.Index.OffsetOf(i), reader.Index.LengthOf(i));
            var rows = new BlockIterator(await reader.ReadBlockAsync(i));
            while (rows.MoveNext())
            {
                blockOf.Add(Encoding.UTF8.GetString(rows.Key), i);
            }
        }

        var footer = SstFooter.Read(original.AsSpan(original.Length - SstFooter.Length), original.Length, path);
        var metadata = SstMetadata.Decode(original.AsSpan((int)footer.MetadataOffset, footer.MetadataLength), path, footer);
        Assert.That(metadata.HasFilter, Is.True);
        return new SstFacts(
            path,
            relative.Value,
            Encoding.UTF8.GetString(handle.FirstKey),
            Encoding.UTF8.GetString(handle.LastKey),
            original,
            blockOf,
            blocks,
            (metadata.FilterOffset, metadata.FilterLength),
            (metadata.IndexOffset, metadata.IndexLength),
            (footer.MetadataOffset, footer.MetadataLength),
            (original.Length - SstFooter.Length, SstFooter.Length));
    }

    /// <summary>Deletes what the case created and puts the corrupted object back as it was.</summary>
    private async Task RestoreAsync(Built built, string? path, byte[]? original)
    {
        foreach (var extra in (await ListAsync()).Where(p => !built.Baseline.Contains(p)))
        {
            await Store.DeleteAsync(ObjectPath.Parse(extra));
        }

        if (path is not null)
        {
            await Store.PutAsync(ObjectPath.Parse(path), original!, PutMode.Overwrite);
        }
    }

    /// <summary>After the cases, the restored database opens and holds everything written.</summary>
    private async Task AssertIntactAsync(Built built)
    {
        await RestoreAsync(built, null, null);
        var db = await SlateSharp.Db.OpenAsync(Store, Db, Options());
        foreach (var key in built.Final.Keys.Concat(AbsentKeys))
        {
            Assert.That(Text(await db.GetAsync(Bytes(key))), Is.EqualTo(built.Final.GetValueOrDefault(key)), $"restored database: {key}");
        }

        await db.SimulateCrashAsync();
        await db.DisposeAsync();
    }

    private async Task<HashSet<string>> ListAsync()
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var item in Store.ListAsync($"{Db}/"))
        {
            paths.Add(item.Path.Value);
        }

        return paths;
    }

    private async Task<byte[]> ReadAsync(string path) => (await Store.GetAsync(ObjectPath.Parse(path), ByteRange.All))!.Data.ToArray();

    private void Report(string description, string outcome) => TestContext.Out.WriteLine($"[{Target.Name}] {description} => {outcome}");

    private static string Relative(string path) => path[(Db.Length + 1)..];

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static KeyRange RangeOf(string start, string end) =>
        (start, end) switch
        {
            ("", "") => KeyRange.All,
            ("", _) => KeyRange.Until(Bytes(end)),
            (_, "") => KeyRange.From(Bytes(start)),
            _ => KeyRange.Between(Bytes(start), Bytes(end)),
        };

    private static string? Text(byte[]? bytes) => bytes is null ? null : Encoding.UTF8.GetString(bytes);

    private sealed record WalWrite(ulong Id, string Key, string? Previous);

    /// <summary>An L0 SST as built: its bytes, which block holds each key, and where each region is.</summary>
    private sealed record SstFacts(
        string Path,
        string Relative,
        string First,
        string Last,
        byte[] Original,
        Dictionary<string, int> BlockOf,
        (long Start, int Length)[] Blocks,
        (long Start, int Length) Filter,
        (long Start, int Length) Index,
        (long Start, int Length) Metadata,
        (long Start, int Length) Footer);

    /// <summary>The database as built: the final state of every key written, the WAL tail, L0 newest first, the objects stored.</summary>
    private sealed record Built(string Location, SortedDictionary<string, string?> Final, List<WalWrite> WalTail, List<SstFacts> L0, HashSet<string> Baseline);
}
