namespace SlateSharp.Storage;

/// <summary>
/// Object storage as the engine needs it: immutable-looking objects under string paths, with conditional puts.
/// Every backend (memory, local disk or FUSE mount, S3, GCS) passes the same conformance suite.
/// </summary>
/// <remarks>
/// Contracts common to all methods: failures are <see cref="SlateSharpException"/>s (<see cref="ErrorKind.Invalid"/>
/// for bad arguments, <see cref="ErrorKind.Unavailable"/> for unreachable or failing storage, <see cref="ErrorKind.Data"/>
/// for storage that returns something impossible), and the message names the path. Methods are thread-safe.
/// Conditional outcomes are return values, not exceptions. A store is released with <c>await using</c> (or
/// <see cref="IAsyncDisposable.DisposeAsync"/>): a store opened from a URL owns HTTP clients and file handles. A store
/// passed to <c>Db.OpenAsync(store, path)</c> stays the caller's to dispose.
/// </remarks>
public interface IObjectStore : IAsyncDisposable
{
    /// <summary>
    /// Releases what the store holds. By default: <see cref="IDisposable.Dispose"/> when the store implements it,
    /// otherwise nothing, so a store that holds nothing need not implement this.
    /// </summary>
    ValueTask IAsyncDisposable.DisposeAsync()
    {
        (this as IDisposable)?.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Where this store points, for messages and logs (e.g. <c>file:///data/db</c>, <c>s3://bucket/prefix</c>).</summary>
    string Location { get; }

    /// <summary>
    /// Returns the object's metadata, or null when nothing is stored at <paramref name="path"/>.
    /// </summary>
    ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads <paramref name="range"/> of the object, or returns null when nothing is stored at <paramref name="path"/>.
    /// Never returns a partial object: the data is exactly the resolved range of one complete stored version.
    /// A range is clipped to the end of the object; a range starting beyond the end is <see cref="ErrorKind.Invalid"/>.
    /// </summary>
    ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="content"/> at <paramref name="path"/> under the condition in <paramref name="options"/>.
    /// A put either fully happened (readers see all of the new bytes) or did not happen at all (readers see the old
    /// object or none). A create-if-absent that finds an object returns <see cref="PutOutcome.AlreadyExists"/>; an
    /// if-version-matches that finds another version or no object returns <see cref="PutOutcome.VersionMismatch"/>.
    /// Of any number of concurrent conditional puts at one path with the same expectation, exactly one stores.
    /// </summary>
    ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like the in-memory overload, but reads <paramref name="content"/> to its end and uploads it with bounded memory
    /// (an SST of hundreds of MiB never sits in memory whole). The stream is not disposed.
    /// </summary>
    ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists objects whose path starts with <paramref name="prefix"/> (a plain string prefix, e.g. <c>wal/</c> or
    /// <c>manifest/0000</c>; empty lists everything), in ascending ordinal order of path, fetching pages as it goes.
    /// Objects created or deleted during the listing may or may not appear.
    /// </summary>
    IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object if it exists. Deleting a missing object is not an error.</summary>
    ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default);
}
