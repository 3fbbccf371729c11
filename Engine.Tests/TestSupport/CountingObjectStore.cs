using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>Wraps a store and counts requests by kind, recording every requested range, to prove how many requests a component makes.</summary>
internal sealed class CountingObjectStore(IObjectStore inner) : IObjectStore
{
    private int _gets;
    private int _heads;
    private int _puts;
    private int _lists;
    private int _deletes;

    public int Gets => Volatile.Read(ref _gets);

    public int Heads => Volatile.Read(ref _heads);

    public int Puts => Volatile.Read(ref _puts);

    public int Lists => Volatile.Read(ref _lists);

    public int Deletes => Volatile.Read(ref _deletes);

    /// <summary>Every request of any kind.</summary>
    public int Total => Gets + Heads + Puts + Lists + Deletes;

    public List<(ObjectPath Path, ByteRange Range)> Requests { get; } = [];

    /// <summary>The inner store is the test's: nothing of it is released here.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public string Location => inner.Location;

    public void Reset()
    {
        Interlocked.Exchange(ref _gets, 0);
        Interlocked.Exchange(ref _heads, 0);
        Interlocked.Exchange(ref _puts, 0);
        Interlocked.Exchange(ref _lists, 0);
        Interlocked.Exchange(ref _deletes, 0);
        lock (Requests)
        {
            Requests.Clear();
        }
    }

    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _heads);
        return inner.HeadAsync(path, cancellationToken);
    }

    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _gets);
        lock (Requests)
        {
            Requests.Add((path, range));
        }

        return inner.GetAsync(path, range, cancellationToken);
    }

    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _puts);
        return inner.PutAsync(path, content, options, cancellationToken);
    }

    public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _puts);
        return inner.PutAsync(path, content, options, cancellationToken);
    }

    public IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _lists);
        return inner.ListAsync(prefix, cancellationToken);
    }

    public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _deletes);
        return inner.DeleteAsync(path, cancellationToken);
    }
}
