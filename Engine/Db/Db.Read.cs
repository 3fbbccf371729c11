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
        await foreach (var row in Reads.ScanAsync(CurrentView, startInclusive, endExclusive, snapshot, cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    private IReadView CurrentView() => Volatile.Read(ref _view);

    private ulong Snapshot(ReadOptions? options) =>
        options?.DurableOnly == true ? Math.Min(DurableSequence, Volatile.Read(ref _visibleSequence)) : Volatile.Read(ref _visibleSequence);
}
