using System.Collections.Concurrent;
using System.Text;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Wal;

/// <summary>
/// On a store that prepares puts ahead (a local directory), the WAL writer writes and fsyncs the next object's
/// temporary file while the object before it is being published, yet publishes and acknowledges strictly in id order.
/// </summary>
public sealed class StagedUploadTests
{
    private static readonly DbOptions NoInterval = new() { FlushInterval = TimeSpan.FromHours(1), RandomSeed = 5, Compaction = new() { Enabled = false } };
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public async Task The_next_wal_object_is_staged_while_the_one_before_it_is_published_and_acknowledged_after_it()
    {
        using var dir = new TestDirectory();
        var steps = new ConcurrentQueue<(CommitStep Step, string Path)>();
        var armed = 0;
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stagedWhileHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var store = LocalFileSystemObjectStore.Open(dir.Path, new LocalStoreOptions
        {
            StepHook = async (step, path) =>
            {
                if (!path.Value.StartsWith("db/" + WalPaths.Prefix, StringComparison.Ordinal) || Volatile.Read(ref armed) == 0)
                {
                    return;
                }

                steps.Enqueue((step, path.Value));
                if (step == CommitStep.Published && held.TrySetResult())
                {
                    await release.Task; // the first object is linked, its directory not yet synced: not yet durable
                }
                else if (step == CommitStep.TempWritten && held.Task.IsCompleted && !release.Task.IsCompleted)
                {
                    stagedWhileHeld.TrySetResult();
                }
            },
        });

        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", NoInterval))
        {
            Volatile.Write(ref armed, 1);
            var first = db.PutAsync(B("first"), B("1")).AsTask();
            await held.Task.WaitAsync(HangGuard);
            var second = db.PutAsync(B("second"), B("2")).AsTask();

            await stagedWhileHeld.Task.WaitAsync(HangGuard);
            Assert.That(first.IsCompleted || second.IsCompleted, Is.False, "nothing is acknowledged while the first object is being published");

            release.SetResult();
            await Task.WhenAll(first, second).WaitAsync(HangGuard);
            var stats = db.GetStats();
            Assert.That(stats.DurableSequence, Is.EqualTo(stats.LastSequence));
        }

        var published = steps.Where(s => s.Step == CommitStep.Published).Select(s => s.Path).ToList();
        Assert.That(published, Has.Count.EqualTo(2), "two objects");
        Assert.That(published, Is.Ordered.Using<string>(StringComparer.Ordinal), "published in id order");

        await using var reopened = await SlateSharp.Db.OpenAsync(store, "db", NoInterval);
        Assert.That(Encoding.UTF8.GetString((await reopened.GetAsync(B("first")))!), Is.EqualTo("1"));
        Assert.That(Encoding.UTF8.GetString((await reopened.GetAsync(B("second")))!), Is.EqualTo("2"));
    }

    [Test]
    public async Task A_staged_publish_that_fails_is_settled_by_a_plain_put_and_leaves_no_temporary_file()
    {
        using var dir = new TestDirectory();
        var calls = new FailOneLink();
        using var store = LocalFileSystemObjectStore.Open(dir.Path, new LocalStoreOptions { Calls = calls });
        await using (var db = await SlateSharp.Db.OpenAsync(store, "db", NoInterval))
        {
            calls.Arm();
            await db.PutAsync(B("k"), B("v")).AsTask().WaitAsync(HangGuard);

            Assert.That(calls.Failed, Is.EqualTo(1), "the staged publish failed once (EIO)");
            var stats = db.GetStats();
            Assert.That(stats.DurableSequence, Is.EqualTo(stats.LastSequence), "the retry stored it");
        }

        Assert.That(Directory.EnumerateFiles(dir.Path, ".slatesharp-tmp-*", SearchOption.AllDirectories), Is.Empty);
        await using var reopened = await SlateSharp.Db.OpenAsync(store, "db", NoInterval);
        Assert.That(Encoding.UTF8.GetString((await reopened.GetAsync(B("k")))!), Is.EqualTo("v"));
    }

    /// <summary>The real calls, except that the first link after <see cref="Arm"/> fails with EIO.</summary>
    private sealed class FailOneLink : IFileSystemCalls
    {
        private const int EIo = 5;
        private int _armed;

        public int Failed { get; private set; }

        public void Arm() => Volatile.Write(ref _armed, 1);

        public int Link(string existingPath, string newPath)
        {
            if (Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Failed++;
                return EIo;
            }

            return PosixFileSystemCalls.Instance.Link(existingPath, newPath);
        }

        public int RenameNoReplace(string sourcePath, string destinationPath) => PosixFileSystemCalls.Instance.RenameNoReplace(sourcePath, destinationPath);

        public int Rename(string sourcePath, string destinationPath) => PosixFileSystemCalls.Instance.Rename(sourcePath, destinationPath);

        public int Flock(int fd, int operation) => PosixFileSystemCalls.Instance.Flock(fd, operation);

        public long? FilesystemType(string path) => PosixFileSystemCalls.Instance.FilesystemType(path);
    }
}
