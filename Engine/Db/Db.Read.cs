using System.Runtime.CompilerServices;
using SlateSharp.Read;

namespace SlateSharp;

/// <summary>The read path (<see cref="ReadPath"/>) over the writer's view: memtables, frozen memtables, then SSTs.</summary>
public sealed partial class Db
{
    private ReadPath Reads => field ??= new ReadPath(_readers, _pins);

    /// <summary>The value of <paramref name="key"/>, or null when it is absent or deleted.</summary>
    public ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, ReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        WriteBatch.ValidateKey(key.Span);
        ThrowIfClosed();
        return Reads.GetAsync(CurrentView, key, Snapshot(options), cancellationToken);
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
