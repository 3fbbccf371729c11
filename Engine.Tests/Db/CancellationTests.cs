using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// Cancellation semantics of the write API (docs/usage.md): a call cancelled before its rows are appended applies
/// nothing; once appended the write stands and cancellation only stops the wait for durability.
/// </summary>
public sealed class CancellationTests
{
    private static readonly DbOptions Fast = new() { FlushInterval = TimeSpan.FromMilliseconds(5), RandomSeed = 3 };

    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    [Test]
    public async Task Writes_cancelled_before_they_start_are_not_applied_in_any_mode()
    {
        var store = new InMemoryObjectStore();
        var db = await SlateSharp.Db.OpenAsync(store, "db", Fast);
        await db.PutAsync(B("deleted?"), B("still here"));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Assert.That(async () => await db.PutAsync(B("durable"), B("x"), WriteOptions.Default, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await db.PutAsync(B("nowait"), B("x"), WriteOptions.NoWait, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await db.DeleteAsync(B("deleted?"), WriteOptions.NoWait, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        var batch = new WriteBatch().Put(B("batch").Span, B("x").Span);
        Assert.That(async () => await db.WriteAsync(batch, WriteOptions.NoWait, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await db.WriteAsync(new WriteBatch(), WriteOptions.NoWait, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());

        Assert.That(await db.GetAsync(B("durable")), Is.Null);
        Assert.That(await db.GetAsync(B("nowait")), Is.Null);
        Assert.That(await db.GetAsync(B("batch")), Is.Null);
        Assert.That(S(await db.GetAsync(B("deleted?"))), Is.EqualTo("still here"));

        await db.CloseAsync();
        await using var reopened = await SlateSharp.Db.OpenAsync(store, "db", Fast);
        Assert.That(await reopened.ScanAsync(KeyRange.All).Select(kv => Encoding.UTF8.GetString(kv.Key.Span)).ToListAsync(), Is.EqualTo(new[] { "deleted?" }));
    }

    [Test]
    public async Task Cancelling_the_wait_for_durability_leaves_the_write_applied_and_it_becomes_durable()
    {
        var inner = new InMemoryObjectStore();
        var store = new InterceptingObjectStore(inner);
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", Fast);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.OnPut = async (path, _, proceed, ct) =>
        {
            if (path.Value.StartsWith("db/wal/", StringComparison.Ordinal))
            {
                arrived.TrySetResult();
                await release.Task.WaitAsync(ct);
            }

            return await proceed();
        };
        using var cancel = new CancellationTokenSource();

        var put = db.PutAsync(B("k"), B("v"), WriteOptions.Default, cancel.Token).AsTask();
        await arrived.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await cancel.CancelAsync();

        Assert.That(async () => await put, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(S(await db.GetAsync(B("k"))), Is.EqualTo("v"), "the write was appended before the cancellation: it stands");
        release.SetResult();
        await db.FlushAsync();
        await db.SimulateCrashAsync();
        await using var reopened = await SlateSharp.Db.OpenAsync(inner, "db", Fast);
        Assert.That(S(await reopened.GetAsync(B("k"))), Is.EqualTo("v"), "and it became durable with its WAL object");
    }

    [Test]
    public async Task A_write_cancelled_while_it_waits_for_memory_is_not_applied()
    {
        var inner = new InMemoryObjectStore();
        var store = new InterceptingObjectStore(inner);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.OnPut = async (path, _, proceed, ct) =>
        {
            if (path.Value.StartsWith("db/compacted/", StringComparison.Ordinal))
            {
                await release.Task.WaitAsync(ct);
            }

            return await proceed();
        };
        var options = new DbOptions { FlushInterval = TimeSpan.FromMilliseconds(5), MemtableSizeBytes = 16 << 10, MaxUnflushedBytes = 32 << 10, RandomSeed = 3 };
        await using var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        using var cancel = new CancellationTokenSource();

        // With SST uploads held, the memtables fill the budget and a write must wait for memory.
        ValueTask waiting = default;
        var i = 0;
        for (; i < 10_000; i++)
        {
            waiting = db.PutAsync(B($"fill-{i:D5}"), new byte[512], WriteOptions.NoWait, cancel.Token);
            if (!waiting.IsCompleted)
            {
                break;
            }

            await waiting;
        }

        Assert.That(waiting.IsCompleted, Is.False, "a write must have stalled on the memory budget");
        await cancel.CancelAsync();
        Assert.That(async () => await waiting, Throws.InstanceOf<OperationCanceledException>());
        release.SetResult();
        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });

        Assert.That(await db.GetAsync(B($"fill-{i:D5}")), Is.Null, "the stalled write was cancelled before it was appended");
        Assert.That(await db.GetAsync(B($"fill-{i - 1:D5}")), Is.Not.Null);
    }

    [Test]
    public async Task Every_call_after_close_fails_as_closed_even_an_empty_batch_and_null_arguments_follow_dotnet_convention()
    {
        var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", Fast);
        await db.CloseAsync();

        Assert.That(Assert.ThrowsAsync<SlateSharpException>(async () => await db.WriteAsync(new WriteBatch()))!.Kind, Is.EqualTo(ErrorKind.Closed));
        Assert.That(Assert.ThrowsAsync<SlateSharpException>(async () => await db.FlushAsync())!.Kind, Is.EqualTo(ErrorKind.Closed));
        Assert.That(Assert.ThrowsAsync<SlateSharpException>(async () => await db.GetAsync(B("k")))!.Kind, Is.EqualTo(ErrorKind.Closed));
        Assert.That(Assert.ThrowsAsync<SlateSharpException>(async () => await db.ScanAsync(KeyRange.All).ToListAsync())!.Kind, Is.EqualTo(ErrorKind.Closed));
        Assert.That(async () => await db.WriteAsync(null!), Throws.ArgumentNullException);
        Assert.That(async () => await SlateSharp.Db.OpenAsync((SlateSharp.Storage.IObjectStore)null!, "db"), Throws.ArgumentNullException);
    }
}
