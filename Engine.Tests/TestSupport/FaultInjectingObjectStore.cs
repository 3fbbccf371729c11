using System.Runtime.CompilerServices;
using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>Where an injected fault strikes: before the inner store acts, or after it acted (the response is lost).</summary>
public enum FaultTiming
{
    Before,
    After,
}

/// <summary>One injected failure.</summary>
public sealed record Fault(FaultTiming Timing, SlateSharpException Error)
{
    public static Fault Transient(FaultTiming timing = FaultTiming.Before) =>
        new(timing, new SlateSharpException(ErrorKind.Unavailable, "injected: server error (status=503)"));

    public static Fault Invalid() => new(FaultTiming.Before, new SlateSharpException(ErrorKind.Invalid, "injected: access denied (status=403)"));
}

/// <summary>
/// Wraps a store and fails chosen calls, before or after they reach the inner store: how the retry tests model a
/// 503, a connection reset, or a conditional put that landed but whose answer never arrived. <see cref="Plan"/> is
/// asked on every call with the operation ("get", "head", "put", "list", "delete") and its 1-based call number.
/// A listing fault strikes after <see cref="ListFaultAfterItems"/> items.
/// </summary>
public sealed class FaultInjectingObjectStore(IObjectStore inner) : IObjectStore
{
    private readonly Dictionary<string, int> _calls = [];

    public Func<string, int, Fault?> Plan { get; set; } = (_, _) => null;

    public int ListFaultAfterItems { get; set; }

    /// <summary>The inner store is the test's: nothing of it is released here.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public string Location => inner.Location;

    public int Calls(string operation)
    {
        lock (_calls)
        {
            return _calls.GetValueOrDefault(operation);
        }
    }

    public async ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        await RunAsync("head", () => inner.HeadAsync(path, cancellationToken));

    public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        await RunAsync("get", () => inner.GetAsync(path, range, cancellationToken));

    public async ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
        await RunAsync("put", () => inner.PutAsync(path, content, options, cancellationToken));

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
        await RunAsync("put", () => inner.PutAsync(path, content, options, cancellationToken));

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var fault = Next("list");
        if (fault is { Timing: FaultTiming.Before })
        {
            throw fault.Error;
        }

        var yielded = 0;
        await foreach (var item in inner.ListAsync(prefix, cancellationToken))
        {
            if (fault is not null && yielded == ListFaultAfterItems)
            {
                throw fault.Error;
            }

            yielded++;
            yield return item;
        }
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        await RunAsync("delete", async () =>
        {
            await inner.DeleteAsync(path, cancellationToken);
            return true;
        });

    private Fault? Next(string operation)
    {
        int call;
        lock (_calls)
        {
            call = _calls[operation] = _calls.GetValueOrDefault(operation) + 1;
        }

        return Plan(operation, call);
    }

    private async ValueTask<T> RunAsync<T>(string operation, Func<ValueTask<T>> action)
    {
        var fault = Next(operation);
        if (fault is { Timing: FaultTiming.Before })
        {
            throw fault.Error;
        }

        var result = await action();
        if (fault is { Timing: FaultTiming.After })
        {
            throw fault.Error;
        }

        return result;
    }
}
