using System.Runtime.CompilerServices;
using SlateSharp.Format;
using SlateSharp.Iteration;
using SlateSharp.Manifest;
using SlateSharp.Sst;

namespace SlateSharp.Read;

/// <summary>
/// Gets and scans over a view (memtables, then L0 newest first, then sorted runs in list order), shared by
/// <see cref="Db"/> and <c>DbReader</c>. Every get and scan pins the SSTs of the manifest it reads for its
/// whole duration (<see cref="SstPins"/>), so in-process GC never deletes an SST under it.
/// </summary>
/// <remarks>
/// The pin is taken and then the view is read again: a read that pinned a manifest which was swapped out meanwhile
/// lets it go and pins the new one. So once a view has been replaced, every read still on its manifest pinned it while
/// it was current; a collector that reads the current manifest first and the pins after it never misses one.
/// </remarks>
internal sealed class ReadPath(SstReaderCache readers, SstPins pins)
{
    /// <summary>The value of <paramref name="key"/> as of <paramref name="snapshot"/>, or null when absent or deleted.</summary>
    public async ValueTask<byte[]?> GetAsync(Func<IReadView> current, ReadOnlyMemory<byte> key, ulong snapshot, CancellationToken cancellationToken)
    {
        var (view, pin) = Pin(current);
        using (pin)
        {
            foreach (var memtable in view.Memtables)
            {
                if (memtable.Get(key.Span, snapshot) is { } row)
                {
                    return ValueOf(row);
                }
            }

            // Hash once for every SST's bloom filter.
            var hash = BloomFilter.Hash(key.Span);
            var manifest = view.Manifest;
            foreach (var sst in manifest.L0)
            {
                if (Covers(sst, key.Span) && await GetFromSstAsync(sst, key, hash, snapshot, cancellationToken).ConfigureAwait(false) is { } row)
                {
                    return ValueOf(row);
                }
            }

            foreach (var run in manifest.SortedRuns)
            {
                if (FindInRun(run, key.Span) is { } sst && await GetFromSstAsync(sst, key, hash, snapshot, cancellationToken).ConfigureAwait(false) is { } row)
                {
                    return ValueOf(row);
                }
            }

            return null;
        }
    }

    /// <summary>
    /// The visible rows in [<paramref name="startInclusive"/>, <paramref name="endExclusive"/>) as of
    /// <paramref name="snapshot"/>; the view is taken (and pinned) when enumeration starts and released when it ends or
    /// the enumerator is disposed. An empty bound means unbounded.
    /// </summary>
    public async IAsyncEnumerable<KeyValue> ScanAsync(
        Func<IReadView> current,
        ReadOnlyMemory<byte> startInclusive,
        ReadOnlyMemory<byte> endExclusive,
        ulong snapshot,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (view, pin) = Pin(current);
        using (pin)
        {
            var sources = new List<IRowIterator>();
            sources.AddRange(view.Memtables.Select(t => t.CreateIterator()));
            var ssts = view.Manifest.L0.Concat(view.Manifest.SortedRuns.SelectMany(r => r.Ssts));
            foreach (var sst in ssts.Where(s => Overlaps(s, startInclusive.Span, endExclusive.Span)))
            {
                sources.Add(new SstRowIterator(await readers.GetAsync(sst.Id, cancellationToken).ConfigureAwait(false)));
            }

            await foreach (var row in MergingIterator.VisibleAsync(sources, startInclusive, endExclusive, snapshot, cancellationToken).ConfigureAwait(false))
            {
                yield return new KeyValue(row.Key, row.Value);
            }
        }
    }

    private (IReadView View, SstPins.Pin Pin) Pin(Func<IReadView> current)
    {
        var view = current();
        while (true)
        {
            var pin = pins.Acquire(view.Manifest);
            var again = current();
            if (ReferenceEquals(again.Manifest, view.Manifest))
            {
                return (again, pin);
            }

            pin.Dispose();
            view = again;
        }
    }

    private async ValueTask<RowEntry?> GetFromSstAsync(SstHandle sst, ReadOnlyMemory<byte> key, ulong keyHash, ulong snapshot, CancellationToken cancellationToken)
    {
        var reader = await readers.GetAsync(sst.Id, cancellationToken).ConfigureAwait(false);
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
