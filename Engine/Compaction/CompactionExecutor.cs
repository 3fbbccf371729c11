using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SlateSharp.Iteration;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;

namespace SlateSharp.Compaction;

/// <summary>What a compaction job wrote: its output SSTs in key order, pinned until the caller releases them.</summary>
internal sealed class CompactionOutput(IReadOnlyList<SstHandle> ssts, IReadOnlyList<SstPins.Pin> pins, long rowsRead, IReadOnlyCollection<ulong> droppedRangeDeletes) : IDisposable
{
    public IReadOnlyList<SstHandle> Ssts => ssts;

    /// <summary>Sequences of the range deletes the job left nothing below: publishing it removes them from the manifest.</summary>
    public IReadOnlyCollection<ulong> DroppedRangeDeletes => droppedRangeDeletes;

    public long BytesWritten => ssts.Sum(s => s.Size);

    public long RowsRead => rowsRead;

    public long RowsWritten => ssts.Sum(s => s.EntryCount);

    public void Dispose()
    {
        foreach (var pin in pins)
        {
            pin.Dispose();
        }
    }
}

/// <summary>
/// Runs one compaction job: splits the key space into up to <see cref="CompactionOptions.MaxSubcompactions"/> ranges of
/// about equal input size (from the inputs' index keys), and for each range in parallel merges the sources, applies the
/// retention policy and streams output SSTs cut at <see cref="CompactionOptions.TargetSstBytes"/> on key boundaries.
/// Inputs are read with readahead around the block cache; memory per range is one readahead buffer per source plus one
/// upload pipe. Every output id is pinned from the moment it is minted; when the job fails, every output written is
/// deleted (no manifest can name it yet), and one that cannot be deleted is left to GC.
/// </summary>
internal sealed class CompactionExecutor(
    IObjectStore store,
    SstReaderCache readers,
    SstBuilderOptions sstOptions,
    SstIdGenerator ids,
    SstPins pins,
    CompactionOptions options,
    TimeProvider time,
    Func<IReadOnlyList<ulong>> retainedSnapshots,
    Action beforePut,
    ILogger logger,
    IMergeOperator? mergeOperator = null)
{
    private const int SamplesPerSst = 64;

    /// <summary>
    /// Runs <paramref name="job"/>. <paramref name="unpublished"/>, when given, registers the outputs of a job that
    /// runs long, so they can still be published after the deadline (see <see cref="UnpublishedOutputs"/>).
    /// </summary>
    public async Task<CompactionOutput> RunAsync(CompactionJob job, CancellationToken cancellationToken, UnpublishedOutputs? unpublished = null)
    {
        var inputs = new JobReaders(readers, job, cancellationToken);
        var ranges = await SplitAsync(job, inputs, cancellationToken).ConfigureAwait(false);
        var minted = new ConcurrentQueue<(SstId Id, SstPins.Pin Pin)>();
        var snapshots = retainedSnapshots();

        // Decided by the job and the snapshots alone, so before any output exists that a failure here would orphan.
        var dropped = await DroppableRangeDeletesAsync(job, snapshots, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var tasks = new Task<(List<SstHandle> Ssts, long RowsRead)>[ranges.Count];
        for (var i = 0; i < ranges.Count; i++)
        {
            var (start, end) = ranges[i];
            tasks[i] = Task.Run(
                () => CompactRangeAsync(job, inputs, start, end, new RowRetention(snapshots, job.Bottom, now, mergeOperator, job.RangeTombstones), minted, unpublished, cancellationToken),
                cancellationToken);
        }

        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // WhenAll completed only once every range finished, so no range can mint an output after this.
            await DeleteUnpublishedAsync(minted.Select(m => m.Id), e).ConfigureAwait(false);
            foreach (var (_, pin) in minted)
            {
                pin.Dispose();
            }

            throw;
        }

        var outputs = tasks.SelectMany(t => t.Result.Ssts).ToList();
        return new CompactionOutput(outputs, minted.Select(m => m.Pin).ToList(), tasks.Sum(t => t.Result.RowsRead), dropped);
    }

    /// <summary>
    /// The range deletes nothing is left below once the job is published: the job rewrote every sorted run, no L0 SST
    /// outside it can hold a version older than the range delete in its range (its lowest sequence is higher), and no
    /// retained snapshot is older (so the job kept no version the range delete hides). Rows older than a range delete
    /// in the manifest are all in SSTs: the memtables that held them flushed before it.
    /// </summary>
    private async ValueTask<IReadOnlyCollection<ulong>> DroppableRangeDeletesAsync(CompactionJob job, IReadOnlyList<ulong> snapshots, CancellationToken cancellationToken)
    {
        if (job.PickedFrom is not { RangeTombstones.Count: > 0 } picked)
        {
            return [];
        }

        var inputRuns = job.Sources.Where(s => s.Run is not null).Select(s => s.Run!.Id).ToHashSet();
        if (picked.SortedRuns.Any(r => !inputRuns.Contains(r.Id)))
        {
            return [];
        }

        var inputs = job.InputIds.ToHashSet();
        var otherL0 = picked.L0.Where(h => !inputs.Contains(h.Id)).ToList();
        var dropped = new HashSet<ulong>();
        foreach (var tombstone in picked.RangeTombstones)
        {
            if (snapshots.Count > 0 && snapshots[0] < tombstone.Sequence)
            {
                continue;
            }

            var below = false;
            foreach (var sst in otherL0.Where(h => Overlaps(h, tombstone.Start, tombstone.End)))
            {
                var reader = await readers.GetForPassAsync(sst.Id, cancellationToken).ConfigureAwait(false);
                if (reader.Info.MinSequence < tombstone.Sequence)
                {
                    below = true;
                    break;
                }
            }

            if (!below)
            {
                dropped.Add(tombstone.Sequence);
            }
        }

        return dropped;
    }

    /// <summary>After a job failed before anything was published: every output is referenced by nothing.</summary>
    public async ValueTask DeleteUnpublishedAsync(IEnumerable<SstId> outputs, Exception reason)
    {
        foreach (var id in outputs)
        {
            try
            {
                await store.DeleteAsync(SstPaths.PathOf(id), CancellationToken.None).ConfigureAwait(false);
            }
            catch (SlateSharpException e)
            {
                logger.LogWarning(e, "could not delete compaction output {Path} after {Reason}; the garbage collector will", SstPaths.PathOf(id), reason.Message);
            }
        }
    }

    private async Task<(List<SstHandle> Ssts, long RowsRead)> CompactRangeAsync(
        CompactionJob job, JobReaders inputs, byte[] start, byte[]? end, RowRetention retention, ConcurrentQueue<(SstId, SstPins.Pin)> minted, UnpublishedOutputs? unpublished,
        CancellationToken cancellationToken)
    {
        var sources = new List<IRowIterator>(job.Sources.Count);
        foreach (var source in job.Sources)
        {
            var ssts = source.Ssts.Where(s => Overlaps(s, start, end)).ToList();
            if (ssts.Count > 0)
            {
                sources.Add(new SortedRunIterator(ssts, inputs.GetAsync, options.ReadaheadBytes));
            }
        }

        var rows = new RetainedRows(new MergedRowIterator(sources), retention, end);
        var outputs = new List<SstHandle>();
        var more = await rows.StartAsync(start, cancellationToken).ConfigureAwait(false);
        while (more)
        {
            var id = ids.Next();
            minted.Enqueue((id, pins.Acquire([id])));
            unpublished?.Minted(id);
            var handle = await SstUpload.WriteAsync(store, id, sstOptions, async (builder, token) =>
            {
                ReadOnlyMemory<byte> lastKey = default;
                do
                {
                    var row = rows.Current;

                    // Cut only between keys: all versions of a key stay in one SST, so the run's SSTs never overlap.
                    if (builder.EntryCount > 0 && builder.EstimatedSize >= options.TargetSstBytes && !row.Key.Span.SequenceEqual(lastKey.Span))
                    {
                        return;
                    }

                    if (builder.Add(row.Key.Span, row.Value.Span, row.Sequence, row.Kind, row.ExpireAt))
                    {
                        await builder.FlushAsync(token).ConfigureAwait(false);
                    }

                    lastKey = row.Key;
                    more = await rows.MoveNextAsync(token).ConfigureAwait(false);
                }
                while (more);
            }, beforePut, cancellationToken).ConfigureAwait(false);
            outputs.Add(handle);
            if (unpublished is not null)
            {
                await unpublished.RegisterIfDueAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return (outputs, rows.RowsRead);
    }

    /// <summary>
    /// Split keys at about equal shares of input bytes, sampled from every input's index (block last keys, weighted by
    /// block size); ranges are [previous split, next split), the first starting unbounded and the last ending so.
    /// </summary>
    private async ValueTask<List<(byte[] Start, byte[]? End)>> SplitAsync(CompactionJob job, JobReaders inputs, CancellationToken cancellationToken)
    {
        var whole = new List<(byte[], byte[]?)> { ([], null) };
        var ranges = Math.Min(options.MaxSubcompactions, (int)Math.Max(1, job.InputBytes / Math.Max(1, options.TargetSstBytes / 4)));
        if (ranges <= 1)
        {
            return whole;
        }

        var samples = new List<(byte[] Key, long Weight)>();
        foreach (var sst in job.Sources.SelectMany(s => s.Ssts))
        {
            var index = (await inputs.GetAsync(sst.Id, cancellationToken).ConfigureAwait(false)).Index;
            var step = Math.Max(1, index.Count / SamplesPerSst);
            for (var block = step - 1; block < index.Count; block += step)
            {
                samples.Add((index.LastKeyOf(block).ToArray(), (long)index.LengthOf(block) * step));
            }
        }

        samples.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        var total = samples.Sum(s => s.Weight);
        var splits = new List<byte[]>();
        long seen = 0;
        foreach (var (key, weight) in samples)
        {
            seen += weight;
            if (splits.Count < ranges - 1 && seen >= total * (splits.Count + 1) / ranges &&
                (splits.Count == 0 || key.AsSpan().SequenceCompareTo(splits[^1]) > 0) && seen < total)
            {
                // The sample is a block's last key: split just after it, so that key stays with the rows before it.
                splits.Add([.. key, 0]);
            }
        }

        if (splits.Count == 0)
        {
            return whole;
        }

        var result = new List<(byte[] Start, byte[]? End)>();
        byte[] previous = [];
        foreach (var split in splits)
        {
            result.Add((previous, split));
            previous = split;
        }

        result.Add((previous, null));
        return result;
    }

    private static bool Overlaps(SstHandle sst, byte[] start, byte[]? end) =>
        (start.Length == 0 || sst.LastKey.AsSpan().SequenceCompareTo(start) >= 0) && (end is null || sst.FirstKey.AsSpan().SequenceCompareTo(end) < 0);
}
