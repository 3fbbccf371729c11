using System.Text;
using System.Threading.Channels;
using SlateSharp.Storage;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// Two writers create the same object with create-if-absent, each from its own store instance (as two processes
/// would), paused at every step of the publish protocol, in every order the protocol allows. After every single
/// step a third, read-only store looks at the object: it must see nothing or one writer's complete bytes, never an
/// empty or partial object (the hazard of publishing through a visible placeholder), and at the end exactly one
/// writer must have won, with its bytes stored. This is the property the WAL fence and the manifest CAS rest on.
/// </summary>
[TestFixture(CommitStrategy.HardLink, false)]
[TestFixture(CommitStrategy.RenameNoReplace, false)]
[TestFixture(CommitStrategy.LockedRename, false)]
[TestFixture(CommitStrategy.LockedRename, true)]
public sealed class CommitInterleavingTests(CommitStrategy strategy, bool onFuse)
{
    // Pauses per put: TempWritten and Published, plus LockAcquired and ConditionChecked for the locked strategy.
    private int Pauses => strategy == CommitStrategy.LockedRename ? 4 : 2;

    [Test]
    public async Task Two_creators_interleaved_at_every_step_leave_exactly_one_complete_winner()
    {
        string? parent = null;
        if (onFuse && (parent = TestEnvironment.FuseDirectory) is null)
        {
            TestEnvironment.Missing("the s3fs FUSE mount (SLATESHARP_TEST_FUSE_DIR)");
        }

        using var directory = new TestDirectory(parent);
        var first = new SteppedWriter(directory.Path, onFuse ? null : strategy, "A");
        var second = new SteppedWriter(directory.Path, onFuse ? null : strategy, "B");
        using var reader = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions { ReadOnly = true });
        var schedules = Schedules(Pauses + 1).ToList();

        var outcomes = new Dictionary<string, int>();
        for (var s = 0; s < schedules.Count; s++)
        {
            var path = ObjectPath.Parse($"wal/{s:D20}.sst");
            var schedule = schedules[s];
            var winner = await RunAsync(schedule, path, first, second, reader);
            outcomes[winner] = outcomes.GetValueOrDefault(winner) + 1;
        }

        TestContext.Out.WriteLine($"{schedules.Count} schedules: " + string.Join(", ", outcomes.Select(o => $"{o.Key} won {o.Value}")));
        Assert.That(outcomes.Keys, Is.EquivalentTo(new[] { "A", "B" }), "each writer must win in some order");
        first.Dispose();
        second.Dispose();
    }

    private static async Task<string> RunAsync(string schedule, ObjectPath path, SteppedWriter a, SteppedWriter b, LocalFileSystemObjectStore reader)
    {
        a.Begin(path);
        b.Begin(path);
        foreach (var move in schedule)
        {
            var writer = move == 'A' ? a : b;
            await writer.MoveAsync();
            await AssertNothingOrCompleteAsync(reader, path, schedule);
        }

        var results = new[] { await a.Result, await b.Result };
        Assert.That(results.Count(r => r.Outcome == PutOutcome.Stored), Is.EqualTo(1), $"schedule {schedule}");
        Assert.That(results.Count(r => r.Outcome == PutOutcome.AlreadyExists), Is.EqualTo(1), $"schedule {schedule}");
        var winner = results[0].Stored ? "A" : "B";
        var stored = await reader.GetAsync(path, ByteRange.All);
        Assert.That(Encoding.ASCII.GetString(stored!.Data.Span), Is.EqualTo(SteppedWriter.Content(winner, path)), $"schedule {schedule}");
        return winner;
    }

    private static async Task AssertNothingOrCompleteAsync(LocalFileSystemObjectStore reader, ObjectPath path, string schedule)
    {
        var seen = await reader.GetAsync(path, ByteRange.All);
        if (seen is null)
        {
            return;
        }

        var text = Encoding.ASCII.GetString(seen.Data.Span);
        Assert.That(text, Is.EqualTo(SteppedWriter.Content("A", path)).Or.EqualTo(SteppedWriter.Content("B", path)), $"a reader saw a partial or empty object during schedule {schedule}");
    }

    /// <summary>
    /// Every interleaving of two writers' moves (start, then one move per pause), except those that would advance a
    /// writer into the directory lock while the other holds it: that writer would simply wait, which is the same as
    /// the schedule in which the other moves first.
    /// </summary>
    private IEnumerable<string> Schedules(int moves)
    {
        IEnumerable<string> Extend(string prefix, int a, int b)
        {
            if (a == moves && b == moves)
            {
                yield return prefix;
                yield break;
            }

            if (a < moves && !WouldBlock(a, b))
            {
                foreach (var s in Extend(prefix + "A", a + 1, b))
                {
                    yield return s;
                }
            }

            if (b < moves && !WouldBlock(b, a))
            {
                foreach (var s in Extend(prefix + "B", a, b + 1))
                {
                    yield return s;
                }
            }
        }

        return Extend(string.Empty, 0, 0);
    }

    // After m moves a locked writer is paused at: 1 TempWritten, 2 LockAcquired, 3 ConditionChecked, 4 Published.
    private bool WouldBlock(int movesMade, int otherMovesMade) =>
        strategy == CommitStrategy.LockedRename && movesMade == 1 && otherMovesMade is 2 or 3;

    /// <summary>A writer whose put stops at each commit step until the test moves it on.</summary>
    private sealed class SteppedWriter : IDisposable
    {
        private readonly LocalFileSystemObjectStore _store;
        private readonly string _name;
        private Channel<CommitStep> _arrivals = Channel.CreateUnbounded<CommitStep>();
        private SemaphoreSlim _go = new(0);
        private ObjectPath _path;
        private bool _started;

        public SteppedWriter(string root, CommitStrategy? strategy, string name)
        {
            _name = name;
            _store = LocalFileSystemObjectStore.Open(root, new LocalStoreOptions
            {
                ForceCommitStrategy = strategy,
                StepHook = async (step, _) =>
                {
                    _arrivals.Writer.TryWrite(step);
                    await _go.WaitAsync();
                },
            });
        }

        public Task<PutResult> Result { get; private set; } = Task.FromResult(default(PutResult));

        public static string Content(string writer, ObjectPath path) => $"{writer} wrote {path} completely";

        public void Begin(ObjectPath path)
        {
            _path = path;
            _started = false;
            _arrivals = Channel.CreateUnbounded<CommitStep>();
            _go = new SemaphoreSlim(0);
        }

        /// <summary>Starts the put, or lets it past its current pause; returns once it pauses again or finishes.</summary>
        public async Task MoveAsync()
        {
            if (!_started)
            {
                _started = true;
                Result = Task.Run(async () => await _store.PutAsync(_path, Encoding.ASCII.GetBytes(Content(_name, _path)), PutMode.CreateIfAbsent));
            }
            else
            {
                _go.Release();
            }

            var arrival = _arrivals.Reader.WaitToReadAsync().AsTask();
            if (await Task.WhenAny(arrival, Result) == arrival)
            {
                _arrivals.Reader.TryRead(out _);
            }
        }

        public void Dispose() => _store.Dispose();
    }
}
