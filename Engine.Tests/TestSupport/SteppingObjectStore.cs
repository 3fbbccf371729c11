using System.Runtime.CompilerServices;
using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A store wrapper that parks the calling party before and after every request until a <see cref="StepScheduler"/>
/// lets it go, so a test can interleave several parties request by request in a seeded, replayable order.
/// Calls made outside a scheduled party pass straight through.
/// </summary>
internal sealed class SteppingObjectStore(IObjectStore inner, StepScheduler scheduler) : IObjectStore
{
    public string Location => inner.Location;

    public async ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        await scheduler.StepAsync($"head {path}");
        var result = await inner.HeadAsync(path, cancellationToken);
        await scheduler.StepAsync($"headed {path}");
        return result;
    }

    public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default)
    {
        await scheduler.StepAsync($"get {path}");
        var result = await inner.GetAsync(path, range, cancellationToken);
        await scheduler.StepAsync($"got {path} {(result is null ? "absent" : "present")}");
        return result;
    }

    public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        await scheduler.StepAsync($"put {path} {options.Mode}");
        var result = await inner.PutAsync(path, content, options, cancellationToken);
        await scheduler.StepAsync($"put {path} {result.Outcome}");
        return result;
    }

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        await scheduler.StepAsync($"put {path} {options.Mode}");
        var result = await inner.PutAsync(path, content, options, cancellationToken);
        await scheduler.StepAsync($"put {path} {result.Outcome}");
        return result;
    }

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await scheduler.StepAsync($"list {prefix}");
        var items = await inner.ListAsync(prefix, cancellationToken).ToListAsync(cancellationToken);
        await scheduler.StepAsync($"listed {prefix} ({items.Count})");
        foreach (var item in items)
        {
            yield return item;
        }
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        await scheduler.StepAsync($"delete {path}");
        await inner.DeleteAsync(path, cancellationToken);
        await scheduler.StepAsync($"deleted {path}");
    }
}

/// <summary>
/// Runs parties so that exactly one moves at a time: each party runs until it parks at its next step (or finishes),
/// then the scheduler picks, with its seeded generator, which parked party moves next. The same seed gives the
/// same interleaving; the trace records it.
/// </summary>
internal sealed class StepScheduler(Random random)
{
    private static readonly AsyncLocal<string?> CurrentParty = new();

    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, (TaskCompletionSource Go, string Step)> _parked = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _live;

    public List<string> Trace { get; } = [];

    /// <summary>Steps taken by each party, for asserting that a fenced party stopped touching storage.</summary>
    public Dictionary<string, int> StepsByParty { get; } = new(StringComparer.Ordinal);

    public static string? Party => CurrentParty.Value;

    public async Task RunAsync(IReadOnlyDictionary<string, Func<Task>> parties)
    {
        _live = parties.Count;
        var tasks = parties.Select(p => Task.Run(async () =>
        {
            CurrentParty.Value = p.Key;
            try
            {
                await p.Value();
            }
            finally
            {
                lock (_lock)
                {
                    _live--;
                    Signal();
                }
            }
        })).ToList();

        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_live == 0)
                {
                    break;
                }

                if (_parked.Count == _live)
                {
                    var party = _parked.Keys.ElementAt(random.Next(_parked.Count));
                    var (go, step) = _parked[party];
                    _parked.Remove(party);
                    Trace.Add($"{party}: {step}");
                    go.SetResult();
                    continue;
                }

                changed = _changed.Task;
            }

            await changed;
        }

        await Task.WhenAll(tasks);
    }

    public Task StepAsync(string step)
    {
        if (CurrentParty.Value is not { } party)
        {
            return Task.CompletedTask;
        }

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            StepsByParty[party] = StepsByParty.GetValueOrDefault(party) + 1;
            _parked[party] = (go, step);
            Signal();
        }

        return go.Task;
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.SetResult();
    }
}
