using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Sst;

namespace SlateSharp.Read;

/// <summary>Batched gets: many keys at one snapshot and one pinned view, each SST block read at most once.</summary>
internal sealed partial class ReadPath
{
    /// <summary>
    /// The values of <paramref name="keys"/> as of <paramref name="snapshot"/>, in the keys' order (null for absent,
    /// deleted or expired). Looks where a get looks — memtables, each L0 SST newest first, each sorted run — one level at
    /// a time for the keys still unresolved. Within a level, the keys that fall in the same data block of the same SST
    /// share one block read, and the distinct blocks of the level are read concurrently; SSTs whose range or bloom
    /// filter rules a key out are not read for it.
    /// </summary>
    public async ValueTask<byte[]?[]> GetManyAsync(Func<IReadView> current, IReadOnlyList<ReadOnlyMemory<byte>> keys, ulong snapshot, CancellationToken cancellationToken)
    {
        var (view, pin) = Pin(current);
        using var entered = new ViewExit(view);
        using (pin)
        {
            var found = new RowEntry?[keys.Count];
            var pending = new List<int>();
            for (var k = 0; k < keys.Count; k++)
            {
                for (var i = 0; i < view.MemtableCount && found[k] is null; i++)
                {
                    found[k] = view.MemtableAt(i).Get(keys[k].Span, snapshot);
                }

                if (found[k] is null)
                {
                    pending.Add(k);
                }
            }

            var hashes = new ulong[keys.Count];
            foreach (var k in pending)
            {
                hashes[k] = BloomFilter.Hash(keys[k].Span);
            }

            foreach (var sst in view.Manifest.L0)
            {
                if (pending.Count == 0)
                {
                    break;
                }

                await ProbeLevelAsync(k => Covers(sst, keys[k].Span) ? sst : null, keys, hashes, pending, found, snapshot, cancellationToken).ConfigureAwait(false);
            }

            foreach (var run in view.Manifest.SortedRuns)
            {
                if (pending.Count == 0)
                {
                    break;
                }

                await ProbeLevelAsync(k => FindInRun(run, keys[k].Span), keys, hashes, pending, found, snapshot, cancellationToken).ConfigureAwait(false);
            }

            // As a get decides: a version below a covering range delete is hidden, a merge operand is resolved.
            for (var k = 0; k < keys.Count; k++)
            {
                if (found[k] is not { } row)
                {
                    continue;
                }

                if (row.Sequence < RangeDeletes.Floor(view, keys[k].Span, snapshot))
                {
                    found[k] = null;
                }
                else if (row.Kind == RowKind.Merge)
                {
                    found[k] = await ResolveMergeCoreAsync(view, keys[k], row, cancellationToken).ConfigureAwait(false);
                }
            }

            var values = new byte[]?[keys.Count];
            for (var k = 0; k < keys.Count; k++)
            {
                values[k] = ValueOf(found[k]);
            }

            return values;
        }
    }

    /// <summary>
    /// Looks up every pending key in the one SST of a level that may hold it (<paramref name="sstOf"/>), reading each
    /// needed block once; resolves (and removes from <paramref name="pending"/>) every key found, put or tombstone.
    /// </summary>
    private async Task ProbeLevelAsync(
        Func<int, SstHandle?> sstOf, IReadOnlyList<ReadOnlyMemory<byte>> keys, ulong[] hashes, List<int> pending, RowEntry?[] found, ulong snapshot, CancellationToken cancellationToken)
    {
        var bySst = new Dictionary<SstId, (SstHandle Sst, List<int> Keys)>();
        foreach (var k in pending)
        {
            if (sstOf(k) is { } sst)
            {
                if (!bySst.TryGetValue(sst.Id, out var group))
                {
                    bySst[sst.Id] = group = (sst, []);
                }

                group.Keys.Add(k);
            }
        }

        if (bySst.Count == 0)
        {
            return;
        }

        var opened = await Task.WhenAll(bySst.Values.Select(g => readers.GetAsync(g.Sst.Id, cancellationToken).AsTask())).ConfigureAwait(false);
        var reads = new List<(SstReader Reader, int Block, List<int> Keys)>();
        var groupIndex = 0;
        foreach (var group in bySst.Values)
        {
            var reader = opened[groupIndex++];
            var byBlock = new Dictionary<int, List<int>>();
            foreach (var k in group.Keys)
            {
                if (!reader.MayContain(hashes[k]))
                {
                    continue;
                }

                var block = reader.Index.FindBlock(keys[k].Span, snapshot);
                if (block == reader.Index.Count)
                {
                    continue;
                }

                if (!byBlock.TryGetValue(block, out var inBlock))
                {
                    byBlock[block] = inBlock = [];
                    reads.Add((reader, block, inBlock));
                }

                inBlock.Add(k);
            }
        }

        var blocks = await Task.WhenAll(reads.Select(r => r.Reader.ReadBlockAsync(r.Block, cancellationToken).AsTask())).ConfigureAwait(false);
        for (var i = 0; i < reads.Count; i++)
        {
            foreach (var k in reads[i].Keys)
            {
                if (BlockSearch.TryFind(blocks[i], keys[k].Span, snapshot, out var row))
                {
                    found[k] = new RowEntry(keys[k], blocks[i].Data.Slice(row.ValueStart, row.ValueLength), row.Sequence, row.Kind, row.ExpireAt);
                }
            }
        }

        pending.RemoveAll(k => found[k] is not null);
    }
}
