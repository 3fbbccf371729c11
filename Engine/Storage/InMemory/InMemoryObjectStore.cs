using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace SlateSharp.Storage.InMemory;

/// <summary>
/// A thread-safe object store in process memory with the exact semantics of <see cref="IObjectStore"/>. Made for fast
/// unit tests and for <c>memory://name</c> databases; nothing survives the process.
/// </summary>
public sealed class InMemoryObjectStore : IObjectStore, IReadIntoObjectStore
{
    private const int ListPageSize = 1000;
    private static readonly ConcurrentDictionary<string, InMemoryObjectStore> Named = new(StringComparer.Ordinal);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, StoredObject> _objects = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _keys = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private long _nextVersion;

    /// <summary>Holds nothing to release: the objects stay (a named store stays reachable by its name).</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Creates an empty store.</summary>
    public InMemoryObjectStore(string name = "anonymous", TimeProvider? timeProvider = null)
    {
        Location = "memory://" + name;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public string Location { get; }

    /// <summary>Returns the process-wide store registered under <paramref name="name"/>, creating it on first use.</summary>
    public static InMemoryObjectStore GetOrCreateNamed(string name) =>
        Named.GetOrAdd(name, static n => new InMemoryObjectStore(n));

    /// <summary>Forgets the process-wide store registered under <paramref name="name"/>.</summary>
    public static bool RemoveNamed(string name) => Named.TryRemove(name, out _);

    /// <inheritdoc/>
    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return ValueTask.FromResult(_objects.TryGetValue(path.Value, out var o) ? o.Metadata : null);
        }
    }

    /// <inheritdoc/>
    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(path, range, default, cancellationToken));

    /// <inheritdoc/>
    bool IReadIntoObjectStore.ReadsInPlace => true;

    /// <inheritdoc/>
    ValueTask<GetResult?> IReadIntoObjectStore.GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Read(path, ByteRange.FromOffset(offset, destination.Length), destination, cancellationToken));

    /// <summary>A copy of the range, into <paramref name="into"/> or, when that is empty, a new array; null when there is no object.</summary>
    private GetResult? Read(ObjectPath path, ByteRange range, Memory<byte> into, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        StoredObject? stored;
        lock (_lock)
        {
            _objects.TryGetValue(path.Value, out stored);
        }

        if (stored is null)
        {
            return null;
        }

        var (start, length) = range.Resolve(stored.Data.Length, path);
        var source = stored.Data.AsMemory((int)start, (int)length);
        if (into.IsEmpty)
        {
            return new GetResult(stored.Metadata, start, source.ToArray());
        }

        source.CopyTo(into);
        return new GetResult(stored.Metadata, start, into[..(int)length]);
    }

    /// <inheritdoc/>
    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Store(path, content.ToArray(), options));
    }

    /// <inheritdoc/>
    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Store(path, buffer.ToArray(), options);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectPath.ValidatePrefix(prefix);
        string? after = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = NextPage(prefix, after);
            foreach (var metadata in page)
            {
                yield return metadata;
            }

            if (page.Count < ListPageSize)
            {
                yield break;
            }

            after = page[^1].Path.Value;
            await Task.Yield();
        }
    }

    /// <inheritdoc/>
    public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            _objects.Remove(path.Value);
            _keys.Remove(path.Value);
        }

        return ValueTask.CompletedTask;
    }

    private PutResult Store(ObjectPath path, byte[] data, PutOptions options)
    {
        lock (_lock)
        {
            var exists = _objects.TryGetValue(path.Value, out var current);
            switch (options.Mode.Kind)
            {
                case PutModeKind.CreateIfAbsent when exists:
                    return PutResult.AlreadyExists;
                case PutModeKind.IfVersionMatches when !exists || current!.Metadata.Version != options.Mode.ExpectedVersion:
                    return PutResult.VersionMismatch;
            }

            var version = new ObjectVersion((++_nextVersion).ToString(CultureInfo.InvariantCulture));
            var metadata = new ObjectMetadata(path, data.Length, version, _time.GetUtcNow(), options.PutId);
            _objects[path.Value] = new StoredObject(metadata, data);
            _keys.Add(path.Value);
            return PutResult.StoredAs(version);
        }
    }

    private List<ObjectMetadata> NextPage(string prefix, string? after)
    {
        var page = new List<ObjectMetadata>(Math.Min(ListPageSize, 64));
        lock (_lock)
        {
            if (_keys.Count == 0)
            {
                return page;
            }

            var lower = after ?? prefix;
            var max = _keys.Max!;
            if (string.CompareOrdinal(lower, max) > 0)
            {
                return page;
            }

            foreach (var key in _keys.GetViewBetween(lower, max))
            {
                if (after is not null && key == after)
                {
                    continue;
                }

                if (!key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    break;
                }

                page.Add(_objects[key].Metadata);
                if (page.Count == ListPageSize)
                {
                    break;
                }
            }
        }

        return page;
    }

    private sealed record StoredObject(ObjectMetadata Metadata, byte[] Data);
}
