using Microsoft.Extensions.Logging;
using SlateSharp.Wal;

namespace SlateSharp;

/// <summary>Open-time recovery: replay the WAL objects between the manifest's replay point and this writer's fence.</summary>
public sealed partial class Db
{
    /// <summary>
    /// Replays every WAL object after <c>replay_after_wal_id</c> into the memtable, skipping rows already in L0. A
    /// corrupt object fails the open with a Data error naming it, unless <see cref="DbOptions.SkipCorruptWalTail"/> is
    /// set and no object holding writes follows it; the report lists what was skipped.
    /// </summary>
    private async Task<RecoveryReport> ReplayAsync(CancellationToken cancellationToken)
    {
        var manifest = _manifest.Manifest;
        var last = manifest.LastL0Sequence;
        var skipped = new List<SkippedWalObject>();
        WalReplayItem? firstCorrupt = null;
        var replayed = 0;
        long rows = 0;
        lock (_writeLock)
        {
            // A memtable frozen part-way through the first replayed object must not move replay_after_wal_id past it.
            _activeFixedWalId = manifest.ReplayAfterWalId;
        }

        await foreach (var item in WalRecovery.ReadAsync(_store, manifest.ReplayAfterWalId, manifest.WalV1FencesBelow, _fence, cancellationToken).ConfigureAwait(false))
        {
            _replayRangeObjects++;
            if (item.Corruption is { } corruption)
            {
                // Keep reading (applying nothing more) to tell a corrupt tail from a corrupt object that later writes follow.
                firstCorrupt ??= item;
                skipped.Add(new SkippedWalObject(item.Path.Value, item.Size, corruption.Message));
                continue;
            }

            var wal = item.Object!;
            if (wal.IsFence)
            {
                continue;
            }

            if (firstCorrupt is not null)
            {
                throw new SlateSharpException(ErrorKind.Data,
                    $"{firstCorrupt.Corruption!.Message}; the writes in it cannot be recovered, and a later wal object holds writes (next={item.Path}): skipping it would apply those without it, a state the database never had, so DbOptions.SkipCorruptWalTail does not apply; restore {firstCorrupt.Path} from a backup (store={Location})",
                    firstCorrupt.Corruption);
            }

            replayed++;
            foreach (var batch in wal.Batches)
            {
                if (batch.Rows.Count == 0 || batch.Rows[0].Sequence <= manifest.LastL0Sequence)
                {
                    continue;
                }

                await WaitForMemoryAsync(cancellationToken).ConfigureAwait(false);
                lock (_writeLock)
                {
                    long charged = 0;
                    foreach (var row in batch.Rows)
                    {
                        charged += _view.Active.Insert(row.Key, row.Sequence, row.Kind, row.Value, row.ExpireAt);
                        last = Math.Max(last, row.Sequence);
                        rows++;
                    }

                    Interlocked.Add(ref _unflushedBytes, charged);
                }
            }

            // Freeze only between WAL objects: replay_after_wal_id may then move to this object's id.
            lock (_writeLock)
            {
                _activeFixedWalId = item.Id;
                if (_view.Active.SizeBytes >= _options.MemtableSizeBytes)
                {
                    FreezeLocked();
                }
            }
        }

        if (firstCorrupt is not null && !_options.SkipCorruptWalTail)
        {
            throw new SlateSharpException(ErrorKind.Data,
                $"{firstCorrupt.Corruption!.Message}; the writes in it cannot be recovered. It is at the end of the wal: open with DbOptions.SkipCorruptWalTail = true to skip it and the {skipped.Count - 1} corrupt objects after it, losing their writes (Db.Recovery then lists them) (store={Location})",
                firstCorrupt.Corruption);
        }

        lock (_writeLock)
        {
            _activeFixedWalId = _fence.Id;
            _lastSequence = last;
            _recoveredSequence = last;
            Volatile.Write(ref _visibleSequence, last);
        }

        foreach (var skip in skipped)
        {
            _logger.LogWarning("skipped corrupt wal object {Path} ({Size} bytes; its writes are lost): {Reason}", skip.Path, skip.Size, skip.Reason);
        }

        return new RecoveryReport(_fence.Id, replayed, rows, skipped);
    }

    /// <summary>
    /// Records in the manifest what replay learned, when that is needed: on a database last written by format 1, that
    /// zero-byte WAL objects below this writer's fence may be format 1 fences and none above it can be; when replay put
    /// nothing into memory (only fences, or rows already in L0), that <c>replay_after_wal_id</c> may move to this
    /// writer's fence, so later opens do not read the same objects again. When corrupt objects were skipped, the
    /// replayed rows are flushed to L0 so that the skip is recorded and the next open does not meet them again.
    /// </summary>
    private async Task SettleReplayedWalAsync(CancellationToken cancellationToken)
    {
        bool empty;
        lock (_writeLock)
        {
            empty = _view.Active.IsEmpty && _view.Immutables.IsEmpty;
        }

        var fence = _fence.Id;
        var advance = empty && _replayRangeObjects > 0;
        if (advance || _manifest.Manifest.WalV1FencesBelow > fence)
        {
            await _manifest.UpdateAsync(
                m =>
                {
                    var next = m.WalV1FencesBelow > fence ? m with { WalV1FencesBelow = fence } : m;
                    return advance && next.ReplayAfterWalId < fence
                        ? next with { ReplayAfterWalId = fence, NextWalId = Math.Max(next.NextWalId, fence + 1) }
                        : next;
                },
                cancellationToken).ConfigureAwait(false);
            AdvanceView(_manifest.Current);
        }

        if (!empty && Recovery.SkippedWalObjects.Count > 0)
        {
            await FlushMemtablesAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
