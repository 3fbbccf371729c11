using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SlateSharp.Format;
using SlateSharp.Iteration;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Telemetry;

namespace SlateSharp.Read;

/// <summary>
/// Gets and scans over a view (memtables, then L0 newest first, then sorted runs in list order), shared by
/// <see cref="Db"/> and <c>DbReader</c>. Every get and scan enters the view it reads (<see cref="IReadView.TryEnter"/>)
/// and has the SSTs of its manifest pinned for its whole duration (<see cref="SstPins"/>), so in-process GC never
/// deletes an SST under it and no memtable it reads is reused.
/// </summary>
/// <remarks>
/// A writer's view pins its manifest's SSTs itself from its install until its last read exits, and a replaced view
/// whose reads have all ended cannot be entered again, so a read that entered it needs nothing more. A view that does
/// not (a reader's) is pinned by each read, and then read again: a read that pinned a manifest which was swapped out
/// meanwhile lets it go and pins the new one. Either way, once a view has been replaced, every read still on its
/// manifest holds a pin taken while it was current; a collector that reads the current manifest first and the pins
/// after it never misses one.
/// </remarks>
internal sealed partial class ReadPath(SstReaderCache readers, SstPins pins, DbTelemetry telemetry, TimeProvider time, IMergeOperator? mergeOperator = null)
{
    private readonly MergeResolver _merges = new(mergeOperator, time);

    /// <summary>Whether <paramref name="row"/> is a value a read returns: a put that has not expired.</summary>
    public bool IsLive(in RowEntry row) => MergeResolver.IsLivePut(row, time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>The value of <paramref name="key"/> as of <paramref name="snapshot"/>, or null when absent or deleted.</summary>
    public ValueTask<byte[]?> GetAsync(Func<IReadView> current, ReadOnlyMemory<byte> key, ulong snapshot, CancellationToken cancellationToken)
    {
        var found = FindEnteredAsync(current, key, snapshot, out var view, cancellationToken);
        if (!found.IsCompletedSuccessfully)
        {
            return ValueOfAsync(found, view);
        }

        // No finally: a throw here (out of memory) leaves the view entered, so its memtables go to the GC, never reused
        // early (and the block's lease held, so its buffer is never reused either).
        var row = found.Result;
        var answer = ValueOf(row);
        BlockLeases.Release(row);
        view.Exit();
        return new(answer);
    }

    /// <summary>
    /// Writes the value of <paramref name="key"/> as of <paramref name="snapshot"/> to <paramref name="destination"/>;
    /// false (and nothing written) when absent or deleted.
    /// </summary>
    public ValueTask<bool> GetAsync(Func<IReadView> current, ReadOnlyMemory<byte> key, IBufferWriter<byte> destination, ulong snapshot, CancellationToken cancellationToken)
    {
        var found = FindEnteredAsync(current, key, snapshot, out var view, cancellationToken);
        if (!found.IsCompletedSuccessfully)
        {
            return CopyValueAsync(found, destination, view);
        }

        // No finally: a throw here (out of memory) leaves the view entered, so its memtables go to the GC, never reused
        // early (and the block's lease held, so its buffer is never reused either).
        var row = found.Result;
        var answer = CopyValue(row, destination);
        BlockLeases.Release(row);
        view.Exit();
        return new(answer);
    }

    /// <summary>
    /// The newest row of <paramref name="key"/> at or below <paramref name="snapshot"/> (a put or a tombstone), or null,
    /// and the view it was read from (<paramref name="view"/>), entered (<see cref="IReadView.TryEnter"/>): the caller
    /// copies what it needs of the row and then exits the view, as a value found in a memtable aliases the memtable's
    /// memory, which is reused once the memtable is flushed and no read is on a view that lists it. When that row is a merge operand, the older
    /// versions are read too and merged (<see cref="MergeResolver"/>): the answer is then a put of the merged value, or
    /// a tombstone when there is none, at the operand's sequence. Completes synchronously, allocating nothing, when no
    /// merge is involved, every block it reads is cached and every SST open. The row's key is <paramref name="key"/>; a
    /// value from a cached block stays valid after the SST pin is released (the pin keeps SST objects from being
    /// collected, not memory).
    /// </summary>
    /// <remarks>
    /// No catch to exit the view on a synchronous throw: one leaves the view entered, so its memtables go to the GC,
    /// never reused early; and without one the method inlines into the get.
    /// </remarks>
    private ValueTask<RowEntry?> FindEnteredAsync(Func<IReadView> current, ReadOnlyMemory<byte> key, ulong snapshot, out IReadView view, CancellationToken cancellationToken)
    {
        (view, var pin) = Pin(current);
        return FindUnlessRangeDeletedAsync(view, pin, key, snapshot, cancellationToken);
    }

    /// <summary>
    /// The newest row of <paramref name="key"/> at or below <paramref name="snapshot"/> in one view whose memtables'
    /// memory is never reused (a reader's, <see cref="IReadView.TryEnter"/> always true), which the caller holds.
    /// </summary>
    public ValueTask<RowEntry?> FindAsync(IReadView view, ReadOnlyMemory<byte> key, ulong snapshot, CancellationToken cancellationToken) =>
        FindUnlessRangeDeletedAsync(view, pins.AcquireRead(view.Manifest), key, snapshot, cancellationToken);

    /// <summary>
    /// The newest row, unless a range delete newer than it (and at or below the snapshot) covers the key: then a
    /// tombstone at the range delete's sequence. Without a covering range delete, exactly the lookup below.
    /// </summary>
    private ValueTask<RowEntry?> FindUnlessRangeDeletedAsync(IReadView view, SstPins.ReadPin pin, ReadOnlyMemory<byte> key, ulong snapshot, CancellationToken cancellationToken)
    {
        var floor = RangeDeletes.Floor(view, key.Span, snapshot);
        var found = FindAsync(view, pin, key, snapshot, cancellationToken);
        if (floor == 0)
        {
            return found;
        }

        return found.IsCompletedSuccessfully ? new(HideBelow(found.Result, key, floor)) : HideBelowAsync(found, key, floor);
    }

    private static RowEntry? HideBelow(RowEntry? row, ReadOnlyMemory<byte> key, ulong floor) =>
        row is { } r && r.Sequence < floor ? RowEntry.Delete(key, floor) : row;

    private static async ValueTask<RowEntry?> HideBelowAsync(ValueTask<RowEntry?> found, ReadOnlyMemory<byte> key, ulong floor) =>
        HideBelow(await found.ConfigureAwait(false), key, floor);

    /// <summary>The value of a found row as a new array; null for none or a tombstone. Counts the get.</summary>
    public byte[]? ValueOf(RowEntry? row)
    {
        if (row is not { } r || !IsLive(r))
        {
            telemetry.Get(found: false, 0);
            return null;
        }

        telemetry.Get(found: true, r.Value.Length);
        return r.Value.ToArray();
    }

    /// <summary>Writes the value of a found row; false for none or a tombstone. Counts the get.</summary>
    public bool CopyValue(RowEntry? row, IBufferWriter<byte> destination)
    {
        if (row is not { } r || !IsLive(r))
        {
            telemetry.Get(found: false, 0);
            return false;
        }

        telemetry.Get(found: true, r.Value.Length);
        destination.Write(r.Value.Span);
        return true;
    }

    private async ValueTask<byte[]?> ValueOfAsync(ValueTask<RowEntry?> found, IReadView view)
    {
        try
        {
            var row = await found.ConfigureAwait(false);
            var answer = ValueOf(row);
            BlockLeases.Release(row);
            return answer;
        }
        finally
        {
            view.Exit();
        }
    }

    private async ValueTask<bool> CopyValueAsync(ValueTask<RowEntry?> found, IBufferWriter<byte> destination, IReadView view)
    {
        try
        {
            var row = await found.ConfigureAwait(false);
            var answer = CopyValue(row, destination);
            BlockLeases.Release(row);
            return answer;
        }
        finally
        {
            view.Exit();
        }
    }

    /// <summary>
    /// The lookup itself, synchronous for as long as every step completes at once: memtables, then each L0 SST whose
    /// range covers the key, then the one SST of each sorted run that does. At the first step that has to wait (an SST
    /// to open, a block to read) the rest continues in <see cref="ContinueAsync"/>, which then owns the pin. Written out
    /// rather than as one async method so that the cached path allocates nothing in any build (a Debug build boxes
    /// every async state machine) and pays no state-machine copies. Indexed loops avoid boxed list enumerators.
    /// </summary>
    private ValueTask<RowEntry?> FindAsync(IReadView view, SstPins.ReadPin pin, ReadOnlyMemory<byte> key, ulong snapshot, CancellationToken cancellationToken)
    {
        var ownsPin = true;
        try
        {
            for (var i = 0; i < view.MemtableCount; i++)
            {
                if (view.MemtableAt(i).Get(key.Span, snapshot) is { } row)
                {
                    ownsPin = row.Kind != RowKind.Merge;
                    return ownsPin ? new(row) : ResolveMergeAsync(view, pin, key, row, cancellationToken);
                }
            }

            // Hashed once, probed against every SST's filter; not at all when no SST's key range covers the key.
            ulong hash = 0;
            var hashed = false;
            var prefix = KeyComparer.PrefixOf(key.Span);
            var l0 = view.Manifest.L0;
            for (var i = 0; i < l0.Count; i++)
            {
                if (l0[i].Locate(key.Span, prefix) != 0)
                {
                    continue;
                }

                if (!hashed)
                {
                    hash = BloomFilter.Hash(key.Span);
                    hashed = true;
                }

                var pending = GetFromSstAsync(l0[i], key, hash, snapshot, cancellationToken);
                if (!pending.IsCompletedSuccessfully)
                {
                    ownsPin = false;
                    return ContinueAsync(view, pin, key, hash, snapshot, inRuns: false, i, pending, cancellationToken);
                }

                if (pending.Result is { } row)
                {
                    ownsPin = row.Kind != RowKind.Merge;
                    return ownsPin ? new(row) : ResolveMergeAsync(view, pin, key, row, cancellationToken);
                }
            }

            var runs = view.Manifest.SortedRuns;
            for (var i = 0; i < runs.Count; i++)
            {
                if (FindInRun(runs[i], key.Span, prefix) is not { } sst)
                {
                    continue;
                }

                if (!hashed)
                {
                    hash = BloomFilter.Hash(key.Span);
                    hashed = true;
                }

                var pending = GetFromSstAsync(sst, key, hash, snapshot, cancellationToken);
                if (!pending.IsCompletedSuccessfully)
                {
                    ownsPin = false;
                    return ContinueAsync(view, pin, key, hash, snapshot, inRuns: true, i, pending, cancellationToken);
                }

                if (pending.Result is { } row)
                {
                    ownsPin = row.Kind != RowKind.Merge;
                    return ownsPin ? new(row) : ResolveMergeAsync(view, pin, key, row, cancellationToken);
                }
            }

            return default;
        }
        finally
        {
            if (ownsPin)
            {
                pin.Dispose();
            }
        }
    }

    /// <summary>The rest of <see cref="FindAsync(IReadView, SstPins.ReadPin, ReadOnlyMemory{byte}, ulong, CancellationToken)"/> after SST <paramref name="index"/> (of L0 or of the runs) had to wait.</summary>
    private async ValueTask<RowEntry?> ContinueAsync(
        IReadView view, SstPins.ReadPin pin, ReadOnlyMemory<byte> key, ulong hash, ulong snapshot, bool inRuns, int index, ValueTask<RowEntry?> pending, CancellationToken cancellationToken)
    {
        using (pin)
        {
            if (await pending.ConfigureAwait(false) is { } found)
            {
                return found.Kind == RowKind.Merge ? await ResolveMergeCoreAsync(view, key, found, cancellationToken).ConfigureAwait(false) : found;
            }

            if (!inRuns)
            {
                var l0 = view.Manifest.L0;
                for (var i = index + 1; i < l0.Count; i++)
                {
                    if (Covers(l0[i], key.Span) && await GetFromSstAsync(l0[i], key, hash, snapshot, cancellationToken).ConfigureAwait(false) is { } row)
                    {
                        return row.Kind == RowKind.Merge ? await ResolveMergeCoreAsync(view, key, row, cancellationToken).ConfigureAwait(false) : row;
                    }
                }

                index = -1;
            }

            var runs = view.Manifest.SortedRuns;
            for (var i = index + 1; i < runs.Count; i++)
            {
                if (FindInRun(runs[i], key.Span) is { } sst && await GetFromSstAsync(sst, key, hash, snapshot, cancellationToken).ConfigureAwait(false) is { } row)
                {
                    return row.Kind == RowKind.Merge ? await ResolveMergeCoreAsync(view, key, row, cancellationToken).ConfigureAwait(false) : row;
                }
            }

            return null;
        }
    }

    private async ValueTask<RowEntry?> ResolveMergeAsync(IReadView view, SstPins.ReadPin pin, ReadOnlyMemory<byte> key, RowEntry newest, CancellationToken cancellationToken)
    {
        using (pin)
        {
            return await ResolveMergeCoreAsync(view, key, newest, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The slow path of a get that found a merge operand: reads the older versions of the key newest first (each the
    /// newest row below the one before, from the same or an older source) down to a put, a tombstone or the end, and
    /// merges them. The caller holds the pin.
    /// </summary>
    private async ValueTask<RowEntry?> ResolveMergeCoreAsync(IReadView view, ReadOnlyMemory<byte> key, RowEntry newest, CancellationToken cancellationToken)
    {
        var hash = BloomFilter.Hash(key.Span);
        var versions = new List<RowEntry> { newest };
        var row = newest;

        // A version below a covering range delete is hidden: the range delete is the operands' base (no value).
        var floor = RangeDeletes.Floor(view, key.Span, newest.Sequence);
        while (row.Kind == RowKind.Merge && row.Sequence > 0 &&
               await FindNewestAsync(view, key, hash, row.Sequence - 1, cancellationToken).ConfigureAwait(false) is { } older)
        {
            row = older.Sequence < floor ? RowEntry.Delete(key, floor) : older;
            versions.Add(row);
        }

        return _merges.Resolve(CollectionsMarshal.AsSpan(versions)) is { } value
            ? RowEntry.Put(key, value, newest.Sequence)
            : RowEntry.Delete(key, newest.Sequence);
    }

    /// <summary>The newest row of the key at or below <paramref name="maxSequence"/> in the view, the plain async way.</summary>
    private async ValueTask<RowEntry?> FindNewestAsync(IReadView view, ReadOnlyMemory<byte> key, ulong hash, ulong maxSequence, CancellationToken cancellationToken)
    {
        for (var i = 0; i < view.MemtableCount; i++)
        {
            if (view.MemtableAt(i).Get(key.Span, maxSequence) is { } row)
            {
                return row;
            }
        }

        foreach (var sst in view.Manifest.L0)
        {
            if (Covers(sst, key.Span) && await GetFromSstAsync(sst, key, hash, maxSequence, cancellationToken).ConfigureAwait(false) is { } row)
            {
                return row;
            }
        }

        foreach (var run in view.Manifest.SortedRuns)
        {
            if (FindInRun(run, key.Span) is { } sst && await GetFromSstAsync(sst, key, hash, maxSequence, cancellationToken).ConfigureAwait(false) is { } row)
            {
                return row;
            }
        }

        return null;
    }

    /// <summary>
    /// The view to read, entered (<see cref="IReadView.TryEnter"/>: its memtables keep their memory until the caller
    /// exits it), and its manifest's SSTs pinned: see the remarks on the class for why the view is read again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private (IReadView View, SstPins.ReadPin Pin) Pin(Func<IReadView> current)
    {
        // The common case, a writer's current view: entered while alive, so its SST pin is held until this read exits.
        var view = current();
        return view.PinsItsSsts && view.TryEnter() ? (view, default) : PinSlowly(current, view);
    }

    /// <summary>The rest of <see cref="Pin"/>: a view that could not be entered, or one whose reads pin their SSTs.</summary>
    private (IReadView View, SstPins.ReadPin Pin) PinSlowly(Func<IReadView> current, IReadView view)
    {
        while (true)
        {
            if (!view.TryEnter())
            {
                // Replaced, and every read on it ended: the current view is newer.
                var newer = current();
                if (ReferenceEquals(newer, view))
                {
                    throw Errors.ClosedClean("the view was released (a snapshot disposed while read)");
                }

                view = newer;
                continue;
            }

            if (view.PinsItsSsts)
            {
                // Entered while alive, so its SST pin is held until this read exits: no pin, no second look.
                return (view, default);
            }

            var pin = pins.AcquireRead(view.Manifest);
            var again = current();
            if (ReferenceEquals(again.Manifest, view.Manifest))
            {
                // The entered view, not a newer one of the same manifest: it was current after the snapshot's sequence
                // was taken, so it holds every row at or below it.
                return (view, pin);
            }

            pin.Dispose();
            view.Exit();
            view = again;
        }
    }

    private ValueTask<RowEntry?> GetFromSstAsync(SstHandle sst, ReadOnlyMemory<byte> key, ulong keyHash, ulong snapshot, CancellationToken cancellationToken)
    {
        var reader = readers.GetAsync(sst.Id, cancellationToken);
        return reader.IsCompletedSuccessfully
            ? reader.Result.GetAsync(key, keyHash, snapshot, cancellationToken)
            : GetAfterOpenAsync(reader, key, keyHash, snapshot, cancellationToken);
    }

    private static async ValueTask<RowEntry?> GetAfterOpenAsync(ValueTask<SstReader> opening, ReadOnlyMemory<byte> key, ulong keyHash, ulong snapshot, CancellationToken cancellationToken) =>
        await (await opening.ConfigureAwait(false)).GetAsync(key, keyHash, snapshot, cancellationToken).ConfigureAwait(false);

    private static bool Covers(SstHandle sst, ReadOnlySpan<byte> key) => sst.Locate(key, KeyComparer.PrefixOf(key)) == 0;

    private static SstHandle? FindInRun(SortedRun run, ReadOnlySpan<byte> key) => FindInRun(run, key, KeyComparer.PrefixOf(key));

    private static SstHandle? FindInRun(SortedRun run, ReadOnlySpan<byte> key, ulong keyPrefix)
    {
        var ssts = run.Ssts;
        int low = 0, high = ssts.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var sst = ssts[middle];
            var where = sst.Locate(key, keyPrefix);
            if (where < 0)
            {
                high = middle - 1;
            }
            else if (where > 0)
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
