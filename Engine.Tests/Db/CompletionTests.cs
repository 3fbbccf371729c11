using System.Text;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.Db;

/// <summary><see cref="SlateSharp.Db.Completion"/> tells an application its database stopped, without a failing call.</summary>
public sealed class CompletionTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Test]
    public async Task A_fenced_writer_learns_it_from_Completion_without_writing()
    {
        var store = new InMemoryObjectStore();
        var options = new DbOptions { ManifestPollInterval = TimeSpan.FromMilliseconds(20), RandomSeed = 16 };
        var old = await SlateSharp.Db.OpenAsync(store, "db", options);
        await old.PutAsync(B("k"), B("v"));
        Assert.That(old.Completion.IsCompleted, Is.False);

        await using var newer = await SlateSharp.Db.OpenAsync(store, "db", options);

        // The old writer makes no call: its manifest poll learns of the newer writer and completes Completion.
        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await old.Completion.WaitAsync(Patience));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Closed));
            Assert.That(error.CloseReason, Is.EqualTo(CloseReason.Fenced));
            Assert.That(newer.Completion.IsCompleted, Is.False, "the newer writer runs on");
        });
        await old.DisposeAsync();
        Assert.That(await newer.GetAsync(B("k")), Is.EqualTo(B("v")));
    }

    [Test]
    public async Task A_clean_close_completes_it_successfully_after_the_store_is_released()
    {
        var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions { RandomSeed = 17 });
        await db.PutAsync(B("k"), B("v"));
        Assert.That(db.Completion.IsCompleted, Is.False);
        await db.CloseAsync();
        Assert.That(db.Completion.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task A_crash_faults_it_as_failed()
    {
        var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "db", new DbOptions { RandomSeed = 18 });
        await db.SimulateCrashAsync();
        Assert.That(db.Completion.IsFaulted, Is.True);
        var error = db.Completion.Exception!.InnerException as SlateSharpException;
        Assert.That(error?.CloseReason, Is.EqualTo(CloseReason.Failed));
        await db.DisposeAsync();
    }
}
