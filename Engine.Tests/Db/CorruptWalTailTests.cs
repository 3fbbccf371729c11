using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Db;

/// <summary>
/// A corrupt newest WAL object fails the open with a Data error naming it; <see cref="DbOptions.SkipCorruptWalTail"/>
/// is the documented way out, which reports exactly what it skipped and never skips an object that later writes
/// depend on.
/// </summary>
[TestFixture("memory")]
[TestFixture("local")]
public sealed class CorruptWalTailTests(string kind)
{
    private static readonly DbOptions Options = new() { FlushInterval = TimeSpan.FromMilliseconds(2), RandomSeed = 4 };
    private static readonly DbOptions Skipping = new() { FlushInterval = TimeSpan.FromMilliseconds(2), RandomSeed = 4, SkipCorruptWalTail = true };
    private TestDirectory? _directory;
    private IObjectStore _store = null!;

    [SetUp]
    public void CreateStore()
    {
        _directory = kind == "local" ? new TestDirectory() : null;
        _store = _directory is null ? new InMemoryObjectStore() : LocalFileSystemObjectStore.Open(_directory.Path);
    }

    [TearDown]
    public async Task RemoveStore()
    {
        await _store.DisposeAsync();
        _directory?.Dispose();
    }

    [Test]
    public async Task A_torn_newest_wal_object_fails_the_open_by_name_and_the_skip_option_reports_and_records_the_skip()
    {
        var (written, newest) = await WriteDurablyThenCrashAsync(5);
        var torn = await TruncateAsync(newest, keep: 0.5);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(_store, "db", Options));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain(WalPaths.PathOf(newest).Value).And.Contain("SkipCorruptWalTail").And.Contain("store="));

        await using (var db = await SlateSharp.Db.OpenAsync(_store, "db", Skipping))
        {
            Assert.That(db.Recovery.SkippedWalObjects, Has.Count.EqualTo(1));
            var skipped = db.Recovery.SkippedWalObjects[0];
            Assert.That(skipped.Path, Is.EqualTo(WalPaths.PathOf(newest).Value));
            Assert.That(skipped.Size, Is.EqualTo(torn));
            await AssertHoldsAsync(db, written.SkipLast(1));
            Assert.That(await db.GetAsync(Encoding.UTF8.GetBytes(written[^1].Key)), Is.Null, "the torn object's write is the one lost");
        }

        await using var again = await SlateSharp.Db.OpenAsync(_store, "db", Options);
        Assert.That(again.Recovery.SkippedWalObjects, Is.Empty, "the skip was recorded: the next open needs no option");
        await AssertHoldsAsync(again, written.SkipLast(1));
    }

    [Test]
    public async Task A_corrupt_wal_object_followed_by_writes_is_never_skipped()
    {
        var (written, newest) = await WriteDurablyThenCrashAsync(5);
        await TruncateAsync(newest - 1, keep: 0.5);

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(_store, "db", Skipping));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Data));
        Assert.That(error.Message, Does.Contain(WalPaths.PathOf(newest - 1).Value).And.Contain(WalPaths.PathOf(newest).Value));
        Assert.That(written, Has.Count.EqualTo(5));
    }

    [Test]
    public async Task Fences_from_failed_opens_after_a_corrupt_tail_do_not_prevent_the_skip()
    {
        var (written, newest) = await WriteDurablyThenCrashAsync(3);
        await TruncateAsync(newest, keep: 0.3);
        for (var i = 0; i < 3; i++)
        {
            Assert.ThrowsAsync<SlateSharpException>(async () => await SlateSharp.Db.OpenAsync(_store, "db", Options));
        }

        await using var db = await SlateSharp.Db.OpenAsync(_store, "db", Skipping);

        Assert.That(db.Recovery.SkippedWalObjects.Select(s => s.Path), Is.EqualTo(new[] { WalPaths.PathOf(newest).Value }));
        await AssertHoldsAsync(db, written.SkipLast(1));
    }

    /// <summary>Writes <paramref name="count"/> durable puts, one WAL object each, and crashes; returns the writes and the newest WAL id.</summary>
    private async Task<(List<(string Key, string Value)> Written, ulong Newest)> WriteDurablyThenCrashAsync(int count)
    {
        var db = await SlateSharp.Db.OpenAsync(_store, "db", Options);
        var written = new List<(string, string)>();
        for (var i = 0; i < count; i++)
        {
            var (key, value) = ($"key-{i}", $"value-{i}");
            await db.PutAsync(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));
            written.Add((key, value));
        }

        var newest = db.Wal.NextId - 1;
        await db.SimulateCrashAsync();
        return (written, newest);
    }

    private async Task<long> TruncateAsync(ulong id, double keep)
    {
        var path = ObjectPath.Parse($"db/{WalPaths.PathOf(id)}");
        var data = (await _store.GetAsync(path, ByteRange.All))!.Data;
        var length = (int)(data.Length * keep);
        await _store.PutAsync(path, data[..length], PutMode.Overwrite);
        return length;
    }

    private static async Task AssertHoldsAsync(SlateSharp.Db db, IEnumerable<(string Key, string Value)> expected)
    {
        foreach (var (key, value) in expected)
        {
            var got = await db.GetAsync(Encoding.UTF8.GetBytes(key));
            Assert.That(got is null ? null : Encoding.UTF8.GetString(got), Is.EqualTo(value), key);
        }
    }
}
