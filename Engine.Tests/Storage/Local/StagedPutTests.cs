using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Common;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// Staged puts on a local directory: the temporary file is written and fsynced ahead, nothing is visible until the
/// put publishes it, and every later use (a retry, another directory) falls back to a plain put.
/// </summary>
public sealed class StagedPutTests
{
    private static readonly ReadOnlyMemory<byte> Content = Encoding.UTF8.GetBytes("staged bytes of one wal object");

    [Test]
    public async Task Staged_bytes_stay_invisible_until_the_put_publishes_them()
    {
        using var dir = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(dir.Path);
        var path = ObjectPath.Parse("wal/00000000000000000001.sst");

        await using var staged = await StagedPuts.StageAsync(store, path, Content);
        Assert.That(await store.HeadAsync(path), Is.Null, "staging publishes nothing");
        Assert.That(TempFiles(dir.Path), Has.Count.EqualTo(1), "the temporary file is written ahead");

        var result = await staged.PutAsync(path, PutMode.CreateIfAbsent);

        Assert.That(result.Stored, Is.True);
        Assert.That((await store.GetAsync(path, ByteRange.All))!.Data.ToArray(), Is.EqualTo(Content.ToArray()));
        Assert.That(TempFiles(dir.Path), Is.Empty, "the published temporary file is gone");
    }

    [Test]
    public async Task A_staged_put_that_finds_the_name_taken_stores_nothing_and_leaves_no_temporary_file()
    {
        using var dir = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(dir.Path);
        var path = ObjectPath.Parse("wal/00000000000000000001.sst");
        await store.PutAsync(path, Encoding.UTF8.GetBytes("someone else"), PutMode.CreateIfAbsent);

        await using var staged = await StagedPuts.StageAsync(store, path, Content);
        var result = await staged.PutAsync(path, PutMode.CreateIfAbsent);

        Assert.That(result.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(Encoding.UTF8.GetString((await store.GetAsync(path, ByteRange.All))!.Data.Span), Is.EqualTo("someone else"));
        Assert.That(TempFiles(dir.Path), Is.Empty);
    }

    [Test]
    public async Task Disposing_an_unused_stage_removes_its_temporary_file()
    {
        using var dir = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(dir.Path);

        var staged = await StagedPuts.StageAsync(store, ObjectPath.Parse("wal/00000000000000000007.sst"), Content);
        await staged.DisposeAsync();

        Assert.That(TempFiles(dir.Path), Is.Empty);
        Assert.That(await ListAsync(store), Is.Empty);
    }

    [Test]
    public async Task A_second_put_writes_the_bytes_again_so_a_settled_retry_finds_its_own_object()
    {
        using var dir = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(dir.Path);
        var path = ObjectPath.Parse("wal/00000000000000000002.sst");
        await using var staged = await StagedPuts.StageAsync(store, path, Content);

        Assert.That((await staged.PutAsync(path, PutMode.CreateIfAbsent)).Stored, Is.True);
        Assert.That((await staged.PutAsync(path, PutMode.CreateIfAbsent)).Outcome, Is.EqualTo(PutOutcome.AlreadyExists), "a retry is a plain create");
        var settled = await SettledCreate.CreateAsync(store, path, staged, new SettleBudget(TimeSpan.FromSeconds(5), TimeProvider.System), CancellationToken.None);

        Assert.That(settled.Created, Is.True, "our own bytes are there: the create happened");
    }

    [Test]
    public async Task A_put_to_another_directory_than_the_stage_writes_the_bytes_there()
    {
        using var dir = new TestDirectory();
        using var store = LocalFileSystemObjectStore.Open(dir.Path);
        var elsewhere = ObjectPath.Parse("other/object");
        await using (var staged = await StagedPuts.StageAsync(store, ObjectPath.Parse("wal/00000000000000000003.sst"), Content))
        {
            Assert.That((await staged.PutAsync(elsewhere, PutMode.CreateIfAbsent)).Stored, Is.True);
        }

        Assert.That((await store.GetAsync(elsewhere, ByteRange.All))!.Data.ToArray(), Is.EqualTo(Content.ToArray()));
        Assert.That(TempFiles(dir.Path), Is.Empty, "the unused stage was removed on dispose");
    }

    [Test]
    public async Task Decorators_pass_staging_through_and_count_the_put_once()
    {
        using var dir = new TestDirectory();
        using var local = LocalFileSystemObjectStore.Open(dir.Path);
        var metrics = new ObjectStoreMetrics();
        var instrumented = new InstrumentedObjectStore(local, metrics, TimeProvider.System);
        var stack = new PrefixedObjectStore(
            new RetryingObjectStore(instrumented, new Retrier(new RetryOptions(), TimeProvider.System, new RandomSource(7), NullLogger.Instance), new RandomSource(7)), "db");
        var path = ObjectPath.Parse("wal/00000000000000000004.sst");

        Assert.That(StagedPuts.PreparesAhead(stack), Is.True);
        Assert.That(StagedPuts.PreparesAhead(new InMemoryObjectStore()), Is.False, "a store that prepares nothing says so");
        var before = metrics.Requests(RequestKind.Put);
        await using (var staged = await StagedPuts.StageAsync(stack, path, Content))
        {
            Assert.That(TempFiles(Path.Combine(dir.Path, "db")), Has.Count.EqualTo(1), "staged under the prefix");
            Assert.That(metrics.Requests(RequestKind.Put), Is.EqualTo(before), "staging is not a request");
            Assert.That((await staged.PutAsync(path, PutMode.CreateIfAbsent)).Stored, Is.True);
        }

        Assert.That(metrics.Requests(RequestKind.Put), Is.EqualTo(before + 1));
        Assert.That((await local.GetAsync(ObjectPath.Parse("db/" + path.Value), ByteRange.All))!.Data.ToArray(), Is.EqualTo(Content.ToArray()));
    }

    private static List<string> TempFiles(string root) =>
        Directory.Exists(root)
            ? [.. Directory.EnumerateFiles(root, ObjectPath.ReservedPrefix + "-tmp-*", SearchOption.AllDirectories)]
            : [];

    private static async Task<List<string>> ListAsync(IObjectStore store)
    {
        var paths = new List<string>();
        await foreach (var item in store.ListAsync(""))
        {
            paths.Add(item.Path.Value);
        }

        return paths;
    }
}
