using System.Buffers;
using System.Runtime.CompilerServices;
using SlateSharp.Read;

namespace SlateSharp;

/// <summary>The read path (<see cref="ReadPath"/>) over the writer's view: memtables, frozen memtables, then SSTs.</summary>
public sealed partial class Db
{
    private ReadPath Reads => field ??= new ReadPath(_readers, _pins, _telemetry, _options.TimeProvider, _options.MergeOperator);

    /// <summary>The view accessor as one delegate, so a get does not allocate a new one from the method group.</summary>
    private Func<IReadView> CurrentViewAccessor => field ??= CurrentView;

    /// <summary>The value of <paramref name="key"/>, or null when it is absent or deleted.</summary>
    public ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, ReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        WriteBatch.ValidateKey(key.Span);
        ThrowIfClosed();
        return Reads.GetAsync(CurrentViewAccessor, key, Snapshot(options), cancellationToken);
    }

    /// <summary>
    /// Writes the value of <paramref name="key"/> to <paramref name="destination"/> and returns true, or returns false
    /// (writing nothing) when it is absent or deleted. The same read as
    /// <see cref="GetAsync(ReadOnlyMemory{byte}, ReadOptions?, CancellationToken)"/>, without allocating the value:
    /// a get whose blocks are cached completes synchronously and allocates nothing.
    /// </summary>
    public ValueTask<bool> GetAsync(
        ReadOnlyMemory<byte> key, IBufferWriter<byte> destination, ReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        WriteBatch.ValidateKey(key.Span);
        ThrowIfClosed();
        return Reads.GetAsync(CurrentViewAccessor, key, destination, Snapshot(options), cancellationToken);
    }

    /// <summary>
    /// The values of <paramref name="keys"/> in the keys' order (null for a key absent or deleted; a key may appear
    /// more than once), all read at one snapshot from one view. Keys that fall in the same SST block cost one block
    /// read between them, and the distinct blocks of each level are read concurrently.
    /// </summary>
    public ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> keys, ReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateKeys(keys);
        ThrowIfClosed();
        return Reads.GetManyAsync(CurrentViewAccessor, keys, Snapshot(options), cancellationToken);
    }

    /// <summary>
    /// The keys of <paramref name="range"/> with their values, ascending (or descending with
    /// <see cref="ScanOptions.Reverse"/>), as of one consistent snapshot taken when the enumeration starts.
    /// </summary>
    public IAsyncEnumerable<KeyValue> ScanAsync(KeyRange range, ScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= ScanOptions.Default;
        return ScanCoreAsync(range, options, cancellationToken);
    }

    /// <summary>Every key starting with <paramref name="prefix"/> (<see cref="KeyRange.Prefix"/>), as <see cref="ScanAsync"/>.</summary>
    public IAsyncEnumerable<KeyValue> ScanPrefixAsync(ReadOnlyMemory<byte> prefix, ScanOptions? options = null, CancellationToken cancellationToken = default) =>
        ScanAsync(KeyRange.Prefix(prefix), options, cancellationToken);

    internal static void ValidateKeys(IReadOnlyList<ReadOnlyMemory<byte>> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        for (var i = 0; i < keys.Count; i++)
        {
            WriteBatch.ValidateKey(keys[i].Span);
        }
    }

    private async IAsyncEnumerable<KeyValue> ScanCoreAsync(KeyRange range, ScanOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        var snapshot = Snapshot(options.DurableOnly);
        await foreach (var row in Reads.ScanAsync(CurrentView, range, options, snapshot, cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    private IReadView CurrentView() => Volatile.Read(ref _view);

    private ulong Snapshot(ReadOptions? options) => Snapshot(options?.DurableOnly == true);

    private ulong Snapshot(bool durableOnly) =>
        durableOnly ? Math.Min(DurableSequence, Volatile.Read(ref _visibleSequence)) : Volatile.Read(ref _visibleSequence);
}
