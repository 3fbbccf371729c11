using System.Runtime.CompilerServices;
using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>What a permanently broken store answers.</summary>
public enum PermanentFault
{
    /// <summary>Every request fails with <see cref="ErrorKind.Unavailable"/> (a dead endpoint, revoked network).</summary>
    Unavailable,

    /// <summary>Every conditional put answers "already exists" and stores nothing; other requests work (a server stuck answering 409).</summary>
    Exists,
}

/// <summary>
/// A seeded store decorator that fails requests the way real object stores do, drawn from a <see cref="FaultProfile"/>:
/// transient 503/429/timeouts/resets before the request reaches the store; puts and deletes applied whose answer is
/// lost; create-if-absent puts that store and answer "exists" (a retry finding its own write, NFS <c>link()</c>
/// retransmission EEXIST, a server that drops the put id) or answer "exists" without storing (S3's 409
/// ConditionalRequestConflict taken for 412); puts answered with a timeout at once and applied only after later
/// requests have been answered; listings cut part-way; slow responses; and, on demand, permanent failure of the whole
/// store or of one area.
/// </summary>
/// <remarks>
/// Decisions come from one seeded <see cref="Random"/> per (operation, area) stream (seeded from the seed and the
/// name of the profile the store was created with), in the order that stream's calls
/// arrive. One owner issues most streams' calls (the WAL writer its puts, the flusher SST uploads and manifest writes),
/// so with one seed the same requests mostly meet the same faults however the engine's tasks interleave. What still
/// depends on timing is which rows a WAL object holds, how many WAL objects there are, and when a late commit lands
/// relative to other tasks' requests: a seed replays the faults, not the exact run.
/// A late commit lands when a request starts after the chosen number of later requests have been answered, before
/// that request is served (so a store nobody calls keeps it pending; see <see cref="LandLateCommitsAsync"/>). It
/// runs its original condition against the store as it is then (a late create-if-absent whose name was taken
/// meanwhile stores nothing, as a real server would). It is not retried and its outcome is only logged.
/// Stream puts are read to the end before anything is decided, so a failed upload has consumed its stream.
/// </remarks>
public sealed class ChaosObjectStore(IObjectStore inner, FaultProfile profile, int seed, TimeProvider? time = null) : IObjectStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(StoreOperation, StoreArea), Random> _streams = [];
    private readonly List<LateCommit> _late = [];
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly string _profileName = profile.Name;
    private long _requests;
    private long _answered;
    private volatile bool _suspended;
    private (StoreArea? Area, PermanentFault Kind)? _broken;

    public IObjectStore Inner => inner;

    public FaultLog Log { get; } = new();

    public FaultProfile Profile { get; set; } = profile;

    public int Seed => seed;

    public string Location => inner.Location;

    /// <summary>Requests answered so far (late commits land on this count).</summary>
    public long Answered => Interlocked.Read(ref _answered);

    public int PendingLateCommits
    {
        get
        {
            lock (_lock)
            {
                return _late.Count;
            }
        }
    }

    /// <summary>While true no new fault is injected (late commits already scheduled still land; permanent failure stays).</summary>
    public bool Suspended
    {
        get => _suspended;
        set => _suspended = value;
    }

    /// <summary>From now on every request on <paramref name="area"/> (null: on the whole store) fails as <paramref name="kind"/> says.</summary>
    public void BreakPermanently(StoreArea? area = null, PermanentFault kind = PermanentFault.Unavailable)
    {
        lock (_lock)
        {
            _broken = (area, kind);
        }

        Log.Note($"store broken permanently: area={area?.ToString().ToLowerInvariant() ?? "all"} answer={kind.ToString().ToLowerInvariant()}");
    }

    public void Heal()
    {
        lock (_lock)
        {
            _broken = null;
        }

        Log.Note("store healed");
    }

    /// <summary>Applies every late commit still pending, now.</summary>
    public async Task LandLateCommitsAsync()
    {
        List<LateCommit> due;
        lock (_lock)
        {
            due = [.. _late];
            _late.Clear();
        }

        foreach (var commit in due)
        {
            await LandAsync(commit);
        }
    }

    /// <summary>Forgets every late commit still pending: they never land (the client gave up, the server dropped them).</summary>
    public void DropLateCommits()
    {
        lock (_lock)
        {
            foreach (var commit in _late)
            {
                Log.Note($"late commit of request {commit.Request} ({commit.Path}) dropped: never lands");
            }

            _late.Clear();
        }
    }

    public static StoreArea AreaOf(string path)
    {
        foreach (var segment in path.Split('/'))
        {
            switch (segment)
            {
                case "wal":
                    return StoreArea.Wal;
                case "manifest":
                    return StoreArea.Manifest;
                case "compacted":
                    return StoreArea.Compacted;
            }
        }

        return StoreArea.Other;
    }

    public async ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        var request = await StartAsync(cancellationToken);
        try
        {
            await BeforeAsync(request, StoreOperation.Head, path.Value, PutMode.Overwrite, cancellationToken);
            return await inner.HeadAsync(path, cancellationToken);
        }
        finally
        {
            Interlocked.Increment(ref _answered);
        }
    }

    public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default)
    {
        var request = await StartAsync(cancellationToken);
        try
        {
            await BeforeAsync(request, StoreOperation.Get, path.Value, PutMode.Overwrite, cancellationToken);
            return await inner.GetAsync(path, range, cancellationToken);
        }
        finally
        {
            Interlocked.Increment(ref _answered);
        }
    }

    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
        PutCoreAsync(path, content, null, options, cancellationToken);

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        var bytes = buffer.ToArray();
        return await PutCoreAsync(path, bytes, bytes, options, cancellationToken);
    }

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = await StartAsync(cancellationToken);
        try
        {
            var decision = await BeforeAsync(request, StoreOperation.List, prefix, PutMode.Overwrite, cancellationToken);
            var cutAfter = decision.Fault == InjectedFault.ListCut ? (int)(decision.Parameter * 6) : -1;
            var yielded = 0;
            await foreach (var item in inner.ListAsync(prefix, cancellationToken))
            {
                if (yielded == cutAfter)
                {
                    throw Cut(request, prefix, yielded);
                }

                yielded++;
                yield return item;
            }

            if (cutAfter >= 0)
            {
                // Fewer items than the cut point: the connection drops before the last page's end marker.
                throw Cut(request, prefix, yielded);
            }
        }
        finally
        {
            Interlocked.Increment(ref _answered);
        }
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        var request = await StartAsync(cancellationToken);
        try
        {
            var decision = await BeforeAsync(request, StoreOperation.Delete, path.Value, PutMode.Overwrite, cancellationToken);
            await inner.DeleteAsync(path, cancellationToken);
            if (decision.Fault == InjectedFault.AnswerLost)
            {
                Log.Add(request, InjectedFault.AnswerLost, StoreOperation.Delete, path.Value, "deleted");
                throw Error("timed out waiting for the answer", null, StoreOperation.Delete, path.Value);
            }
        }
        finally
        {
            Interlocked.Increment(ref _answered);
        }
    }

    private async ValueTask<PutResult> PutCoreAsync(
        ObjectPath path, ReadOnlyMemory<byte> content, byte[]? streamed, PutOptions options, CancellationToken cancellationToken)
    {
        var request = await StartAsync(cancellationToken);
        try
        {
            if (Broken(AreaOf(path.Value)) == PermanentFault.Exists && options.Mode.IsConditional)
            {
                Log.Add(request, InjectedFault.Permanent, StoreOperation.Put, path.Value, "answered exists, stored nothing");
                return Conflict(options.Mode);
            }

            var decision = await BeforeAsync(request, StoreOperation.Put, path.Value, options.Mode, cancellationToken);
            switch (decision.Fault)
            {
                case InjectedFault.ExistsWithoutStoring:
                    Log.Add(request, decision.Fault!.Value, StoreOperation.Put, path.Value, options.Mode.ToString());
                    return Conflict(options.Mode);
                case InjectedFault.LateCommit:
                    var lag = 1 + (int)(decision.Parameter * Profile.MaxLateCommitLag);
                    lock (_lock)
                    {
                        // Due once this answer and `lag` later ones are counted; lands as the next request starts.
                        _late.Add(new LateCommit(request, path, (streamed ?? content.ToArray(), streamed is not null), options, Answered + 1 + lag));
                    }

                    Log.Add(request, decision.Fault!.Value, StoreOperation.Put, path.Value, $"{options.Mode}, lands after {lag} later answers");
                    throw Error("timed out waiting for the answer", null, StoreOperation.Put, path.Value);
            }

            var result = await InnerPutAsync(path, content, streamed, options, cancellationToken);
            switch (decision.Fault)
            {
                case InjectedFault.AnswerLost:
                    Log.Add(request, decision.Fault!.Value, StoreOperation.Put, path.Value, $"{options.Mode}, outcome {result.Outcome}");
                    throw Error("timed out waiting for the answer", null, StoreOperation.Put, path.Value);
                case InjectedFault.ExistsAfterStoring when result.Stored:
                    Log.Add(request, decision.Fault!.Value, StoreOperation.Put, path.Value, options.Mode.ToString());
                    return Conflict(options.Mode);
            }

            return result;
        }
        finally
        {
            Interlocked.Increment(ref _answered);
        }
    }

    private ValueTask<PutResult> InnerPutAsync(ObjectPath path, ReadOnlyMemory<byte> content, byte[]? streamed, PutOptions options, CancellationToken cancellationToken) =>
        streamed is null
            ? inner.PutAsync(path, content, options, cancellationToken)
            : inner.PutAsync(path, new MemoryStream(streamed, writable: false), options, cancellationToken);

    /// <summary>
    /// Draws the request's fault, waits out its delay, and throws a permanent or transient failure before the store
    /// is touched; returns the decision for faults that strike later.
    /// </summary>
    private async ValueTask<Decision> BeforeAsync(long request, StoreOperation operation, string path, PutMode mode, CancellationToken cancellationToken)
    {
        if (Broken(AreaOf(path)) == PermanentFault.Unavailable)
        {
            Log.Add(request, InjectedFault.Permanent, operation, path);
            throw Error("service unavailable", 503, operation, path);
        }

        var decision = Decide(operation, AreaOf(path), mode);
        if (decision.Delay > TimeSpan.Zero)
        {
            Log.Add(request, InjectedFault.Slow, operation, path, $"{decision.Delay.TotalMilliseconds:0.0} ms");
            await Task.Delay(decision.Delay, _time, cancellationToken);
        }

        (string What, int? Status)? transient = decision.Fault switch
        {
            InjectedFault.Unavailable => ("service unavailable", 503),
            InjectedFault.Throttled => ("slow down", 429),
            InjectedFault.TimedOut => ("timed out before the request reached the server", null),
            InjectedFault.ConnectionReset => ("connection reset by peer", null),
            _ => null,
        };
        if (transient is { } failure)
        {
            Log.Add(request, decision.Fault!.Value, operation, path);
            throw Error(failure.What, failure.Status, operation, path);
        }

        return decision;
    }

    private Decision Decide(StoreOperation operation, StoreArea area, PutMode mode)
    {
        double slow, pick, parameter, delay;
        lock (_lock)
        {
            if (!_streams.TryGetValue((operation, area), out var random))
            {
                random = _streams[(operation, area)] = new Random(StreamSeed(seed, _profileName, operation, area));
            }

            // Always four draws, so a stream's later decisions do not depend on what this one turned out to be.
            (slow, pick, parameter, delay) = (random.NextDouble(), random.NextDouble(), random.NextDouble(), random.NextDouble());
        }

        if (_suspended)
        {
            return new Decision(null, TimeSpan.Zero, parameter);
        }

        var rates = Profile.RatesFor(operation, area);
        var wait = slow < rates.Slow ? Profile.MaxDelay * delay : TimeSpan.Zero;
        InjectedFault? fault = null;
        var conditional = operation == StoreOperation.Put && mode.IsConditional;
        foreach (var (rate, candidate, applies) in new (double, InjectedFault, bool)[]
        {
            (rates.Transient, TransientKind(parameter), true),
            (rates.AnswerLost, InjectedFault.AnswerLost, operation is StoreOperation.Put or StoreOperation.Delete),
            (rates.ExistsAfterStoring, InjectedFault.ExistsAfterStoring, conditional),
            (rates.ExistsWithoutStoring, InjectedFault.ExistsWithoutStoring, conditional),
            (rates.LateCommit, InjectedFault.LateCommit, operation == StoreOperation.Put),
            (rates.ListCut, InjectedFault.ListCut, operation == StoreOperation.List),
        })
        {
            if (pick < rate)
            {
                fault = applies ? candidate : null;
                break;
            }

            pick -= rate;
        }

        return new Decision(fault, wait, parameter);
    }

    private static InjectedFault TransientKind(double parameter) => parameter switch
    {
        < 0.4 => InjectedFault.Unavailable,
        < 0.6 => InjectedFault.Throttled,
        < 0.8 => InjectedFault.TimedOut,
        _ => InjectedFault.ConnectionReset,
    };

    private PermanentFault? Broken(StoreArea area)
    {
        lock (_lock)
        {
            return _broken is { } broken && (broken.Area is null || broken.Area == area) ? broken.Kind : null;
        }
    }

    /// <summary>Numbers a new request (a cancelled one is refused, as real stores do) and, before it is served, lands the late commits that are due.</summary>
    private async ValueTask<long> StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var request = Interlocked.Increment(ref _requests);
        var answered = Answered;
        List<LateCommit>? due = null;
        lock (_lock)
        {
            for (var i = _late.Count - 1; i >= 0; i--)
            {
                if (_late[i].DueAt <= answered)
                {
                    (due ??= []).Insert(0, _late[i]);
                    _late.RemoveAt(i);
                }
            }
        }

        foreach (var commit in due ?? [])
        {
            await LandAsync(commit);
        }

        return request;
    }

    private async Task LandAsync(LateCommit commit)
    {
        try
        {
            var (bytes, streamed) = commit.Content;
            var result = await InnerPutAsync(commit.Path, bytes, streamed ? bytes : null, commit.Options, CancellationToken.None);
            Log.Note($"late commit of request {commit.Request} ({commit.Path}) landed: {(result.Stored ? "stored" : result.Outcome + ", stored nothing")}");
        }
        catch (Exception e)
        {
            Log.Note($"late commit of request {commit.Request} ({commit.Path}) failed: {e.Message}");
        }
    }

    private SlateSharpException Cut(long request, string prefix, int items)
    {
        Log.Add(request, InjectedFault.ListCut, StoreOperation.List, prefix, $"after {items} items");
        return Error("connection reset by peer while listing", null, StoreOperation.List, prefix);
    }

    private SlateSharpException Error(string what, int? status, StoreOperation operation, string path) =>
        new(ErrorKind.Unavailable,
            $"injected: {what} ({(status is { } s ? $"status={s} " : "")}op={operation.ToString().ToLowerInvariant()} path={path} store={Location})");

    private static PutResult Conflict(PutMode mode) =>
        mode.Kind == PutModeKind.IfVersionMatches ? PutResult.VersionMismatch : PutResult.AlreadyExists;

    private static int StreamSeed(int seed, string profileName, StoreOperation operation, StoreArea area)
    {
        // FNV-1a: stable across processes, unlike string.GetHashCode. The profile's name is in it so that two
        // profiles run with one seed do not strike the same request numbers.
        var hash = 2166136261u;
        foreach (var value in new[] { seed, (int)operation, (int)area }.Concat(profileName.Select(c => (int)c)))
        {
            for (var shift = 0; shift < 32; shift += 8)
            {
                hash = (hash ^ (uint)((value >> shift) & 0xff)) * 16777619u;
            }
        }

        return (int)(hash & int.MaxValue);
    }

    private readonly record struct Decision(InjectedFault? Fault, TimeSpan Delay, double Parameter);

    private sealed record LateCommit(long Request, ObjectPath Path, (byte[] Bytes, bool Streamed) Content, PutOptions Options, long DueAt);
}
