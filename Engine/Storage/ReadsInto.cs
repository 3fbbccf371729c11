namespace SlateSharp.Storage;

/// <summary>
/// A store (or decorator) that can read a range into a buffer the caller owns, so that a large read (a compaction's
/// readahead) fills a pooled buffer instead of allocating a large-object-heap array per request.
/// </summary>
internal interface IReadIntoObjectStore
{
    /// <summary>Whether reads land in the caller's buffer without an intermediate array (a decorator answers for the store it wraps).</summary>
    bool ReadsInPlace { get; }

    /// <summary>
    /// <see cref="IObjectStore.GetAsync"/> of <paramref name="destination"/>'s length from <paramref name="offset"/>,
    /// with the bytes written to <paramref name="destination"/>: the result's data is its first bytes (fewer when the
    /// object ends sooner). Null when there is no object.
    /// </summary>
    ValueTask<GetResult?> GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);
}

/// <summary>
/// A store (or decorator) that can read a version of an object the caller read before and knows is never replaced at
/// its path (an SST: write-once, under a unique name) without first checking what the path names now. The local store
/// serves such a read from the handle it keeps open to that file, saving the <c>statx</c> of the path that an
/// ordinary read costs.
/// </summary>
internal interface IReadKnownVersionObjectStore
{
    /// <summary>
    /// <see cref="IReadIntoObjectStore.GetIntoAsync"/>, except that when the store still holds <paramref name="version"/>
    /// open it may answer from it even if the path has since been deleted or replaced (the bytes are that version's).
    /// Otherwise it is an ordinary read of the path.
    /// </summary>
    ValueTask<GetResult?> GetKnownVersionIntoAsync(ObjectPath path, ObjectVersion version, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);
}

/// <summary>Reads into the caller's buffer through a store that can, and otherwise copies a plain get there.</summary>
internal static class ReadsInto
{
    /// <summary>Whether <paramref name="store"/> reads into a caller's buffer without an array of its own.</summary>
    public static bool ReadsInPlace(IObjectStore store) => store is IReadIntoObjectStore { ReadsInPlace: true };

    /// <summary>
    /// Reads up to <paramref name="destination"/>'s length from <paramref name="offset"/> of <paramref name="path"/>
    /// into it (<see cref="IReadIntoObjectStore.GetIntoAsync"/>); null when there is no object.
    /// </summary>
    public static ValueTask<GetResult?> GetIntoAsync(
        IObjectStore store, ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        GetIntoAsync(store, path, null, offset, destination, cancellationToken);

    /// <summary>
    /// <see cref="GetIntoAsync(IObjectStore, ObjectPath, long, Memory{byte}, CancellationToken)"/> of an object the
    /// caller read before as <paramref name="knownVersion"/> and knows is never replaced at its path, through
    /// <see cref="IReadKnownVersionObjectStore.GetKnownVersionIntoAsync"/> where the store offers it. A null version
    /// is an ordinary read.
    /// </summary>
    public static async ValueTask<GetResult?> GetIntoAsync(
        IObjectStore store, ObjectPath path, ObjectVersion? knownVersion, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (knownVersion is { } version && store is IReadKnownVersionObjectStore known)
        {
            return await known.GetKnownVersionIntoAsync(path, version, offset, destination, cancellationToken).ConfigureAwait(false);
        }

        if (store is IReadIntoObjectStore { ReadsInPlace: true } reader)
        {
            return await reader.GetIntoAsync(path, offset, destination, cancellationToken).ConfigureAwait(false);
        }

        if (await store.GetAsync(path, ByteRange.FromOffset(offset, destination.Length), cancellationToken).ConfigureAwait(false) is not { } result)
        {
            return null;
        }

        if (result.Data.Length > destination.Length)
        {
            throw Errors.Data(path.Value, offset, $"the store answered a ranged read with more bytes than asked for (wanted={destination.Length} got={result.Data.Length})");
        }

        result.Data.CopyTo(destination);
        return result with { Data = destination[..result.Data.Length] };
    }
}
