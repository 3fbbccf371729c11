using System.Diagnostics;
using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.S3;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Reader;

/// <summary>
/// Field lesson 1: write through the native protocol (<c>s3://</c> on RGW), read through the FUSE mount of the same
/// bucket (<c>file://</c> on s3fs), both live at once. The reader needs no hard links, renames or locks there, and
/// sees the writer's durable writes once s3fs shows the new objects, never a state that was not committed.
/// </summary>
public sealed class FuseReaderTests
{
    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    public static IEnumerable<TestCaseData> Mounts()
    {
        yield return new TestCaseData("slatesharp-fuse-defaults", "SLATESHARP_TEST_FUSE_DEFAULTS_DIR").SetArgDisplayNames("fuse-s3fs-defaults");
    }

    /// <summary>
    /// The runner's first mount has <c>notsup_compat_dir</c>: s3fs then shows no directory that lacks a marker object,
    /// and a native S3 writer makes none, so the database is invisible there. The reader must say so, clearly and at
    /// once, rather than serve an empty database (docs/design/gc-and-readers.md tells users to mount without it).
    /// </summary>
    [Test]
    public async Task On_a_notsup_compat_dir_mount_the_natively_written_database_is_reported_missing()
    {
        if (TestEnvironment.S3Endpoint is not { } endpoint || TestEnvironment.FuseDirectory is not { } mount)
        {
            TestEnvironment.Missing("the S3 test server and the s3fs mount (SLATESHARP_TEST_S3_ENDPOINT, SLATESHARP_TEST_FUSE_DIR)");
            return;
        }

        var prefix = $"reader-{TestEnvironment.RunId}/compat";
        var s3 = new ObjectStoreOptions { S3 = new S3StoreOptions { Endpoint = endpoint, Credentials = CloudStores.S3Credentials } };
        try
        {
            await using var db = await SlateSharp.Db.OpenAsync($"s3://slatesharp-fuse/{prefix}", new DbOptions { ObjectStore = s3, RandomSeed = 19 });
            await db.PutAsync(B("k"), B("v"));
            var error = Assert.ThrowsAsync<SlateSharpException>(async () => await DbReader.OpenAsync($"file://{mount}/{prefix}"));
            Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
            Assert.That(error.Message, Does.Contain($"{mount}/{prefix}"));
        }
        finally
        {
            var cleanup = await ObjectStores.OpenAsync($"s3://slatesharp-fuse/reader-{TestEnvironment.RunId}", s3);
            await CloudStores.EmptyAsync(cleanup);
        }
    }

    [TestCaseSource(nameof(Mounts))]
    public async Task A_reader_on_the_s3fs_mount_follows_a_live_writer_on_s3(string bucket, string mountVariable)
    {
        if (TestEnvironment.S3Endpoint is not { } endpoint)
        {
            TestEnvironment.Missing("the S3 test server (SLATESHARP_TEST_S3_ENDPOINT)");
            return;
        }

        if (TestEnvironment.Get(mountVariable) is not { } mount)
        {
            TestEnvironment.Missing($"the s3fs mount of bucket {bucket} ({mountVariable})");
            return;
        }

        var prefix = $"reader-{TestEnvironment.RunId}/db";
        var s3 = new ObjectStoreOptions { S3 = new S3StoreOptions { Endpoint = endpoint, Credentials = CloudStores.S3Credentials } };
        var writerOptions = new DbOptions { ObjectStore = s3, FlushInterval = TimeSpan.FromMilliseconds(20), RandomSeed = 17 };
        try
        {
            await using var db = await SlateSharp.Db.OpenAsync($"s3://{bucket}/{prefix}", writerOptions);
            await db.PutAsync(B("k000"), B("v0"));

            // s3fs may not show the new database at once: open when it does, within a generous bound.
            var clock = Stopwatch.StartNew();
            DbReader? opened = null;
            while (opened is null)
            {
                try
                {
                    opened = await DbReader.OpenAsync($"file://{mount}/{prefix}", new DbReaderOptions { PollInterval = TimeSpan.FromMilliseconds(100) });
                }
                catch (SlateSharpException e) when (e.Kind == ErrorKind.Invalid && clock.Elapsed < TimeSpan.FromSeconds(60))
                {
                    await Task.Yield();
                }
            }

            await using var reader = opened;
            const int Keys = 30;
            for (var i = 1; i < Keys; i++)
            {
                await db.PutAsync(B($"k{i:D3}"), B($"v{i}"));
                if (i == Keys / 2)
                {
                    await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
                }

                await CheckPrefixAsync(reader, i);
            }

            // Every write is durable now: the reader must come to see all of them (a poll at a time, bounded).
            clock.Restart();
            while (await CheckPrefixAsync(reader, Keys - 1) < Keys)
            {
                Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(90)), "the reader never saw every durable write through the mount");
                await reader.WhenPolledAsync(reader.Polls + 1);
            }
        }
        finally
        {
            var cleanup = await ObjectStores.OpenAsync($"s3://{bucket}/reader-{TestEnvironment.RunId}", s3);
            await CloudStores.EmptyAsync(cleanup);
        }
    }

    /// <summary>
    /// The keys the reader shows must be k000..k(n-1) for some n (each write was durable before the next began), with
    /// their values: anything else is a state the database never had. Returns n.
    /// </summary>
    private static async Task<int> CheckPrefixAsync(DbReader reader, int written)
    {
        var seen = await reader.ScanAsync(KeyRange.All).Select(kv => (Encoding.UTF8.GetString(kv.Key.Span), Encoding.UTF8.GetString(kv.Value.Span))).ToListAsync();
        var expected = Enumerable.Range(0, seen.Count).Select(i => ($"k{i:D3}", $"v{i}")).ToList();
        Assert.That(seen, Is.EqualTo(expected), "the reader shows a prefix of the writes in order");
        Assert.That(seen, Has.Count.LessThanOrEqualTo(written + 1));
        return seen.Count;
    }
}
