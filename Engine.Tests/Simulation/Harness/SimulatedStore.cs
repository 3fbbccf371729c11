using System.Runtime.CompilerServices;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Simulation;

/// <summary>
/// The object store of one simulated run: an <see cref="InMemoryObjectStore"/> seen by each party (each writer, the
/// final checker) through its own <see cref="View"/>. Every request is two scheduling points (sent, answered) with the
/// store's state change between them, so Coyote interleaves other tasks at both; the <see cref="FaultPlan"/> may
/// turn a request into an ambiguous or false outcome; <see cref="StoreInvariants"/> checks each change as it lands;
/// and a writer that already knows it is fenced must not put anything.
/// </summary>
internal sealed class SimulatedStore(SimulatedClock clock, FaultPlan faults, SimulationLog log)
{
    private readonly InMemoryObjectStore _inner = new("simulation", clock);

    public StoreInvariants Invariants { get; } = new(log);

    public FaultPlan Faults => faults;

    /// <summary>The store as <paramref name="party"/> sees it; <paramref name="knowsFenced"/> says when it has learned it is fenced.</summary>
    public IObjectStore ViewFor(string party, Func<bool> knowsFenced) => new View(this, party, knowsFenced);

    private static SlateSharpException Unavailable(string what, ObjectPath path) =>
        new(ErrorKind.Unavailable, $"simulated: {what} (path={path} store=memory://simulation)");

    private async ValueTask<PutResult> PutAsync(string party, Func<bool> knowsFenced, ObjectPath path, byte[] content, PutOptions options, CancellationToken cancellationToken)
    {
        // A request whose token is already cancelled is never sent.
        cancellationToken.ThrowIfCancellationRequested();
        if (knowsFenced())
        {
            var message = $"{party} put {path} after it learned it was fenced: a fenced writer writes nothing";
            log.Add("!! " + message);
            Specification.Assert(false, message);
        }

        Invariants.BeforePut(party, path, options);
        var fault = options.Mode.Kind == PutModeKind.CreateIfAbsent
            ? faults.Next(path.Value, FaultKind.FailBeforeSend, FaultKind.AnswerLost, FaultKind.OwnCreateExists, FaultKind.FalseExists)
            : faults.Next(path.Value, FaultKind.FailBeforeSend, FaultKind.AnswerLost);
        SchedulingPoint.Interleave();
        cancellationToken.ThrowIfCancellationRequested();
        if (fault == FaultKind.FailBeforeSend)
        {
            log.Add($"   {party} put {path} {options.Mode}: fails before it is sent (injected)");
            throw Unavailable("the request failed before it was sent", path);
        }

        PutResult result;
        if (fault == FaultKind.FalseExists)
        {
            result = PutResult.AlreadyExists;
        }
        else
        {
            result = await _inner.PutAsync(path, content, options, CancellationToken.None);
            if (result.Stored)
            {
                Invariants.AfterStored(party, path, content);
            }
        }

        var outcome = fault switch
        {
            FaultKind.AnswerLost => $"{result.Outcome}, answer lost (injected)",
            FaultKind.OwnCreateExists when result.Stored => "Stored, answers AlreadyExists (injected)",
            FaultKind.FalseExists => "not stored, answers AlreadyExists (injected)",
            _ => result.Outcome.ToString(),
        };
        log.Add($"   {party} put {path} {options.Mode} ({content.Length} bytes): {outcome}");
        SchedulingPoint.Interleave();
        return fault switch
        {
            FaultKind.AnswerLost => throw Unavailable("timed out after the request was sent", path),
            FaultKind.OwnCreateExists when result.Stored => PutResult.AlreadyExists,
            _ => result,
        };
    }

    private async ValueTask DeleteAsync(string party, ObjectPath path, CancellationToken cancellationToken)
    {
        var fault = faults.Next(path.Value, FaultKind.FailBeforeSend, FaultKind.AnswerLost);
        SchedulingPoint.Interleave();
        cancellationToken.ThrowIfCancellationRequested();
        if (fault == FaultKind.FailBeforeSend)
        {
            log.Add($"   {party} delete {path}: fails before it is sent (injected)");
            throw Unavailable("the request failed before it was sent", path);
        }

        Invariants.BeforeDelete(party, path);
        await _inner.DeleteAsync(path, CancellationToken.None);
        log.Add($"   {party} delete {path}{(fault == FaultKind.AnswerLost ? ": deleted, answer lost (injected)" : "")}");
        SchedulingPoint.Interleave();
        if (fault == FaultKind.AnswerLost)
        {
            throw Unavailable("timed out after the request was sent", path);
        }
    }

    private async ValueTask<T> ReadAsync<T>(string party, string what, ObjectPath? path, Func<ValueTask<T>> read, CancellationToken cancellationToken)
    {
        var fault = faults.Next(path?.Value ?? what, FaultKind.FailBeforeSend);
        SchedulingPoint.Interleave();
        cancellationToken.ThrowIfCancellationRequested();
        if (fault == FaultKind.FailBeforeSend)
        {
            log.Add($"   {party} {what}: fails (injected)");
            throw new SlateSharpException(ErrorKind.Unavailable, $"simulated: the request failed before it was sent ({what} path={path} store=memory://simulation)");
        }

        var result = await read();
        SchedulingPoint.Interleave();
        return result;
    }

    private sealed class View(SimulatedStore store, string party, Func<bool> knowsFenced) : IObjectStore
    {
        public string Location => "memory://simulation";

        public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
            store.ReadAsync(party, $"head {path}", path, () => store._inner.HeadAsync(path, CancellationToken.None), cancellationToken);

        public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
            store.ReadAsync(party, $"get {path}", path, () => store._inner.GetAsync(path, range, CancellationToken.None), cancellationToken);

        public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
            store.PutAsync(party, knowsFenced, path, content.ToArray(), options, cancellationToken);

        public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
        {
            // The request starts now, though its body streams in afterwards: what the writer knew is what it knew
            // here (taken before the async method starts, which Coyote may interleave).
            var fencedAtStart = knowsFenced();
            return PutStreamAsync(path, content, fencedAtStart, options, cancellationToken);
        }

        private async ValueTask<PutResult> PutStreamAsync(ObjectPath path, Stream content, bool fencedAtStart, PutOptions options, CancellationToken cancellationToken)
        {
            // Read here rather than with CopyToAsync: its awaits are in the framework, which Coyote does not rewrite.
            using var buffer = new MemoryStream();
            var chunk = new byte[16 << 10];
            int read;
            while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
            {
                buffer.Write(chunk, 0, read);
            }

            return await store.PutAsync(party, () => fencedAtStart, path, buffer.ToArray(), options, cancellationToken);
        }

        public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var items = await store.ReadAsync(party, $"list {prefix}", null, async () =>
            {
                var list = new List<ObjectMetadata>();
                await foreach (var item in store._inner.ListAsync(prefix, CancellationToken.None))
                {
                    list.Add(item);
                }

                return list;
            }, cancellationToken);
            foreach (var item in items)
            {
                yield return item;
            }
        }

        public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
            store.DeleteAsync(party, path, cancellationToken);
    }
}
