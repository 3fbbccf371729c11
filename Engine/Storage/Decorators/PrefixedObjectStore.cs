using System.Runtime.CompilerServices;

namespace SlateSharp.Storage.Decorators;

/// <summary>Presents the objects under <c>prefix/</c> of an inner store as a store of their own.</summary>
internal sealed class PrefixedObjectStore : IObjectStore, IStagingObjectStore, IReadIntoObjectStore, IReadKnownVersionObjectStore
{
    private readonly IObjectStore _inner;
    private readonly string _prefix;

    public PrefixedObjectStore(IObjectStore inner, string prefix)
    {
        _inner = inner;
        _prefix = ObjectPath.Parse(prefix.Trim('/')).Value + "/";
    }

    public string Location => _inner.Location.TrimEnd('/') + "/" + _prefix.TrimEnd('/');

    public async ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        Unwrap(await _inner.HeadAsync(Wrap(path), cancellationToken).ConfigureAwait(false));

    public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        await _inner.GetAsync(Wrap(path), range, cancellationToken).ConfigureAwait(false) is { } result
            ? result with { Metadata = Unwrap(result.Metadata)! }
            : null;

    public bool ReadsInPlace => ReadsInto.ReadsInPlace(_inner);

    public ValueTask<GetResult?> GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        GetKnownOrAnyIntoAsync(path, null, offset, destination, cancellationToken);

    public ValueTask<GetResult?> GetKnownVersionIntoAsync(ObjectPath path, ObjectVersion version, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        GetKnownOrAnyIntoAsync(path, version, offset, destination, cancellationToken);

    private async ValueTask<GetResult?> GetKnownOrAnyIntoAsync(ObjectPath path, ObjectVersion? knownVersion, long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        await ReadsInto.GetIntoAsync(_inner, Wrap(path), knownVersion, offset, destination, cancellationToken).ConfigureAwait(false) is { } result
            ? result with { Metadata = Unwrap(result.Metadata)! }
            : null;

    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
        _inner.PutAsync(Wrap(path), content, options, cancellationToken);

    public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
        _inner.PutAsync(Wrap(path), content, options, cancellationToken);

    public bool PreparesAhead => StagedPuts.PreparesAhead(_inner);

    public async ValueTask<IStagedPut> StageAsync(ObjectPath near, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        new DecoratedStagedPut(
            await StagedPuts.StageAsync(_inner, Wrap(near), content, cancellationToken).ConfigureAwait(false),
            (staged, path, options, ct) => staged.PutAsync(Wrap(path), options, ct));

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectPath.ValidatePrefix(prefix);
        await foreach (var item in _inner.ListAsync(_prefix + prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return Unwrap(item)!;
        }
    }

    public ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default) =>
        _inner.DeleteAsync(Wrap(path), cancellationToken);

    private ObjectPath Wrap(ObjectPath path) => ObjectPath.Parse(_prefix + path.Value);

    private ObjectMetadata? Unwrap(ObjectMetadata? metadata) =>
        metadata is null ? null : metadata with { Path = ObjectPath.Parse(metadata.Path.Value[_prefix.Length..]) };
}
