using SlateSharp.Manifest;

namespace SlateSharp;

/// <summary>Checkpoints: named pins on manifest versions, written through the writer's fenceable manifest.</summary>
public sealed partial class Db
{
    /// <summary>
    /// The checkpoints the manifest holds that have not expired, as this writer knows them (only a writer changes
    /// them).
    /// </summary>
    public IReadOnlyList<DbCheckpoint> Checkpoints
    {
        get
        {
            var now = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            return [.. _manifest.Manifest.Checkpoints.Where(c => IsLive(c, now)).Select(ToPublic)];
        }
    }

    /// <summary>
    /// Creates a checkpoint of the current state: flushes the memtables first (as
    /// <see cref="FlushKind.Memtable"/> does), so the checkpoint holds every write acknowledged before the call, then
    /// records in the manifest a checkpoint pinning the manifest version that holds them. Expired checkpoints are
    /// dropped from the manifest in the same write. Open a frozen view of it with
    /// <see cref="DbReaderOptions.CheckpointId"/>.
    /// </summary>
    public async ValueTask<DbCheckpoint> CreateCheckpointAsync(CheckpointOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CheckpointOptions();
        options.Validate();
        ThrowIfClosed();
        await FlushAsync(new FlushOptions { Kind = FlushKind.Memtable }, cancellationToken).ConfigureAwait(false);

        // Any version from the one the flush stored on holds every flushed row.
        var manifestId = _manifest.Id;
        Guid id;
        lock (_writeLock)
        {
            Span<byte> bytes = stackalloc byte[16];
            _random.NextBytes(bytes);
            id = new Guid(bytes);
        }

        var now = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        long? expiresAt = options.Lifetime is { } lifetime ? checked(now + (long)Math.Ceiling(lifetime.TotalMilliseconds)) : null;
        var checkpoint = new Checkpoint(id, manifestId, now, expiresAt, options.Name);
        await UpdateCheckpointsAsync(
            m => m.Checkpoints.Any(c => c.Id == id) ? m : m with { Checkpoints = [.. Live(m, now), checkpoint] }, cancellationToken).ConfigureAwait(false);
        return ToPublic(checkpoint);
    }

    /// <summary>
    /// Deletes the checkpoint <paramref name="id"/> (and drops expired ones); deleting one that does not exist, or no
    /// longer does, succeeds without writing.
    /// </summary>
    public async ValueTask DeleteCheckpointAsync(Guid id, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var now = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await UpdateCheckpointsAsync(
            m => m.Checkpoints.Any(c => c.Id == id) ? m with { Checkpoints = [.. Live(m, now).Where(c => c.Id != id)] } : m, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The manifest the read view holds.</summary>
    internal DbManifest ViewManifest => Volatile.Read(ref _view).Manifest;

    internal static DbCheckpoint ToPublic(Checkpoint checkpoint) =>
        new(checkpoint.Id, checkpoint.ManifestId, checkpoint.ExpiresAt is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null, checkpoint.Name);

    internal static bool IsLive(Checkpoint checkpoint, long nowUnixMilliseconds) => checkpoint.ExpiresAt is not { } at || at > nowUnixMilliseconds;

    private static IEnumerable<Checkpoint> Live(DbManifest manifest, long now) => manifest.Checkpoints.Where(c => IsLive(c, now));

    /// <summary>Writes an idempotent checkpoint change, then moves the read view onto the manifest the writer now holds.</summary>
    private async ValueTask UpdateCheckpointsAsync(Func<DbManifest, DbManifest> change, CancellationToken cancellationToken)
    {
        try
        {
            await _manifest.UpdateAsync(change, cancellationToken).ConfigureAwait(false);
        }
        catch (SlateSharpException e) when (e.IsFenced)
        {
            throw Rethrowable(e);
        }

        // The view only moves to a higher manifest id, so a concurrent flush cannot take it back.
        AdvanceView(_manifest.Current);
    }
}
