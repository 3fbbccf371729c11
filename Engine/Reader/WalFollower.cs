using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Memtable;
using SlateSharp.Storage;
using SlateSharp.Wal;

namespace SlateSharp.Reader;

/// <summary>
/// Follows the database as a writer leaves it: the newest manifest, plus the WAL objects after its
/// <c>replay_after_wal_id</c>, replayed into a memtable (rows already in its L0 skipped). Each refresh costs one GET
/// for the manifest and one per WAL object, plus one that finds the next id absent; nothing is listed and nothing is
/// written. Not thread-safe: the owner serialises calls.
/// </summary>
/// <remarks>
/// WAL objects are replayed in id order and only without a gap: the writer stores them one at a time in id order, so
/// an object whose predecessor is absent may have been stored before a write the writer acknowledged earlier is
/// visible here, and showing it would show a state the database never had. The follower stops at the first absent id
/// and looks again at the next refresh. An absent id can also be an object that garbage collection removed because
/// its rows reached SSTs: a newer manifest then says so (its <c>replay_after_wal_id</c> is at or past that id), so the
/// follower re-reads the manifest once and carries on from the new replay point. A WAL object that does not decode is a
/// Data error naming it; nothing is skipped.
/// </remarks>
internal sealed class WalFollower(IObjectStore store, ManifestStore manifests, Func<MemoryTable> newTable)
{
    private MemoryTable _table = newTable();
    private VersionedManifest _manifest = null!;
    private ulong _nextWalId;
    private ulong _lastSequence;

    /// <summary>WAL objects applied (data and fences), for tests and logs.</summary>
    public long ObjectsApplied { get; private set; }

    /// <summary>Starts on <paramref name="manifest"/> and replays the WAL objects written since.</summary>
    public async ValueTask<ReaderView> StartAsync(VersionedManifest manifest, CancellationToken cancellationToken)
    {
        await RebaseAsync(manifest, cancellationToken).ConfigureAwait(false);
        await CatchUpAsync(cancellationToken).ConfigureAwait(false);
        return View();
    }

    /// <summary>Moves to the newest manifest, then replays the WAL objects written since the last refresh.</summary>
    public async ValueTask<ReaderView> RefreshAsync(CancellationToken cancellationToken)
    {
        await AdoptNewerManifestAsync(cancellationToken).ConfigureAwait(false);
        await CatchUpAsync(cancellationToken).ConfigureAwait(false);
        return View();
    }

    private ReaderView View() => new(_table, _manifest.Id, _manifest.Manifest, _lastSequence);

    private async ValueTask<bool> AdoptNewerManifestAsync(CancellationToken cancellationToken)
    {
        var latest = await manifests.RefreshAsync(_manifest, cancellationToken).ConfigureAwait(false);
        if (latest.Id == _manifest.Id)
        {
            return false;
        }

        await RebaseAsync(latest, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Moves onto <paramref name="manifest"/>: a fresh memtable keeps only the replayed rows its L0 does not hold (so
    /// memory does not grow across flushes), and the next WAL id to read moves past its replay point.
    /// </summary>
    private async ValueTask RebaseAsync(VersionedManifest manifest, CancellationToken cancellationToken)
    {
        var flushed = manifest.Manifest.LastL0Sequence;
        var table = newTable();
        var rows = _table.CreateIterator();
        while (await rows.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = rows.Current;
            if (row.Sequence > flushed)
            {
                table.Insert(row.Key, row.Sequence, row.Kind, row.Value, row.ExpireAt);
            }
        }

        _table = table;
        _manifest = manifest;
        _nextWalId = Math.Max(_nextWalId, manifest.Manifest.ReplayAfterWalId + 1);
        _lastSequence = Math.Max(_lastSequence, flushed);
    }

    private async ValueTask CatchUpAsync(CancellationToken cancellationToken)
    {
        var reread = false;
        while (true)
        {
            var path = WalPaths.PathOf(_nextWalId);
            var result = await store.GetAsync(path, ByteRange.All, cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                // Not written yet, or collected because its rows reached SSTs: a newer manifest tells which.
                if (reread || !await AdoptNewerManifestAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                reread = true;
                continue;
            }

            var manifest = _manifest.Manifest;
            var wal = WalObjectCodec.Decode(result.Data, $"{path.Value} store={store.Location}", zeroByteIsFence: _nextWalId < manifest.WalV1FencesBelow);
            foreach (var batch in wal.Batches)
            {
                foreach (var row in batch.Rows)
                {
                    if (row.Sequence > manifest.LastL0Sequence)
                    {
                        _table.Insert(row.Key, row.Sequence, row.Kind, row.Value, row.ExpireAt);
                        _lastSequence = Math.Max(_lastSequence, row.Sequence);
                    }
                }
            }

            _nextWalId++;
            ObjectsApplied++;
            reread = false;
        }
    }
}
