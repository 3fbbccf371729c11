using System.Runtime.CompilerServices;
using SlateSharp.Format;
using SlateSharp.Iteration;
using SlateSharp.Manifest;
using SlateSharp.Sst;

namespace SlateSharp;

/// <summary>The read path: memtables, frozen memtables, L0 newest first, then sorted runs.</summary>
public sealed partial class Db
{
    /// <summary>The value of <paramref name="key"/>, or null when it is absent or deleted.</summary>
    public async ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, ReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        WriteBatch.ValidateKey(key.Span);
        ThrowIfClosed();
        var snapshot = Snapshot(options);
        var view = Volatile.Read(ref _view);
        if (view.Active.Get(key.Span, snapshot) is { } active)
        {
            return ValueOf(active);
        }

        foreach (var immutable in view.Immutables)
        {
            if (immutable.Table.Get(key.Span, snapshot) is { } row)
            {
                return ValueOf(row);
            }
        }

        // Hash once for every SST's bloom filter.
        var hash = BloomFilter.Hash(key.Span);
        foreach (var sst in view.Manifest.L0)
        {
            if (Covers(sst, key.Span) && await GetFromSstAsync(sst, key, hash, snapshot, cancellationToken).ConfigureAwait(false) is { } row)
            {
                return ValueOf(row);
            }
        }

        foreach (var run in view.Manifest.SortedRuns)
        {
            if (FindInRun(run, key.Span) is { } sst && await GetFromSstAsync(sst, key, hash, snapshot, cancellationToken).ConfigureAwait(false) is { } row)
            {
                return ValueOf(row);
            }
        }

        return null;
    }

    /// <summary>
    /// The keys in [<paramref name="startInclusive"/>, <paramref name="endExclusive"/>) in ascending order with their
    /// values, as of one consistent snapshot taken when the scan starts. An empty bound means unbounded.
    /// </summary>
    public async IAsyncEnumerable<KeyValue> ScanAsync(
        ReadOnlyMemory<byte> startInclusive,
        ReadOnlyMemory<byte> endExclusive,
        ReadOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var snapshot = Snapshot(options);
        var view = Volatile.Read(ref _view);
        var sources = new List<IRowIterator>();
        sources.AddRange(view.Memtables.Select(t => t.CreateIterator()));
        var ssts = view.Manifest.L0.Concat(view.Manifest.SortedRuns.SelectMany(r => r.Ssts));
        foreach (var sst in ssts.Where(s => Overlaps(s, startInclusive.Span, endExclusive.Span)))
        {
            sources.Add(new SstRowIterator(await _readers.GetAsync(sst.Id, cancellationToken).ConfigureAwait(false)));
        }

        await foreach (var row in MergingIterator.VisibleAsync(sources, startInclusive, endExclusive, snapshot, cancellationToken).ConfigureAwait(false))
        {
            yield return new KeyValue(row.Key, row.Value);
        }
    }

    private ulong Snapshot(ReadOptions? options) =>
        options?.DurableOnly == true ? Math.Min(DurableSequence, Volatile.Read(ref _visibleSequence)) : Volatile.Read(ref _visibleSequence);

    private async ValueTask<RowEntry?> GetFromSstAsync(SstHandle sst, ReadOnlyMemory<byte> key, ulong keyHash, ulong snapshot, CancellationToken cancellationToken)
    {
        var reader = await _readers.GetAsync(sst.Id, cancellationToken).ConfigureAwait(false);
        return reader.MayContain(keyHash) ? await reader.GetAsync(key, snapshot, cancellationToken).ConfigureAwait(false) : null;
    }

    private static byte[]? ValueOf(RowEntry row) => row.Kind == RowKind.Delete ? null : row.Value.ToArray();

    private static bool Covers(SstHandle sst, ReadOnlySpan<byte> key) =>
        key.SequenceCompareTo(sst.FirstKey) >= 0 && key.SequenceCompareTo(sst.LastKey) <= 0;

    private static bool Overlaps(SstHandle sst, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) =>
        (start.IsEmpty || start.SequenceCompareTo(sst.LastKey) <= 0) && (end.IsEmpty || end.SequenceCompareTo(sst.FirstKey) > 0);

    private static SstHandle? FindInRun(SortedRun run, ReadOnlySpan<byte> key)
    {
        int low = 0, high = run.Ssts.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var sst = run.Ssts[middle];
            if (key.SequenceCompareTo(sst.FirstKey) < 0)
            {
                high = middle - 1;
            }
            else if (key.SequenceCompareTo(sst.LastKey) > 0)
            {
                low = middle + 1;
            }
            else
            {
                return sst;
            }
        }

        return null;
    }
}
