namespace SlateSharp.Manifest;

/// <summary>
/// An unfenced, read-only view of the current manifest for readers and tools: it never writes, so it can never be
/// fenced. <see cref="RefreshAsync"/> costs one GET when nothing changed.
/// </summary>
internal sealed class StoredManifest
{
    private readonly ManifestStore _store;

    private StoredManifest(ManifestStore store, VersionedManifest current)
    {
        _store = store;
        Current = current;
    }

    public VersionedManifest Current { get; private set; }

    public ulong Id => Current.Id;

    public DbManifest Manifest => Current.Manifest;

    /// <summary>Loads the current manifest, or returns null when the database does not exist yet.</summary>
    public static async ValueTask<StoredManifest?> TryLoadAsync(ManifestStore store, CancellationToken cancellationToken) =>
        await store.ReadLatestAsync(cancellationToken).ConfigureAwait(false) is { } latest ? new StoredManifest(store, latest) : null;

    /// <summary>Moves to the newest stored version and returns it.</summary>
    public async ValueTask<VersionedManifest> RefreshAsync(CancellationToken cancellationToken)
    {
        Current = await _store.RefreshAsync(Current, cancellationToken).ConfigureAwait(false);
        return Current;
    }
}
