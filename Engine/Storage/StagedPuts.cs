namespace SlateSharp.Storage;

/// <summary>
/// Bytes made ready for a put before the put itself, so that the slow part of preparing one object can overlap the
/// put of the one before it while the puts themselves stay strictly in order. A local store writes and fsyncs the
/// temporary file here and leaves only the publish (link or rename, directory fsync) to <see cref="PutAsync"/>; a
/// cloud store has nothing to prepare and puts the bytes as usual.
/// </summary>
internal interface IStagedPut : IAsyncDisposable
{
    /// <summary>The bytes the put stores (what a caller settling an ambiguous answer compares against).</summary>
    ReadOnlyMemory<byte> Content { get; }

    /// <summary>
    /// One put of <see cref="Content"/> at <paramref name="path"/>, with the same contract as
    /// <see cref="IObjectStore.PutAsync(ObjectPath, ReadOnlyMemory{byte}, PutOptions, CancellationToken)"/>. May be
    /// called again after it returned or threw (a retry); only the first call uses what was prepared.
    /// </summary>
    ValueTask<PutResult> PutAsync(ObjectPath path, PutOptions options, CancellationToken cancellationToken = default);
}

/// <summary>A store (or decorator) that can prepare a put ahead of it.</summary>
internal interface IStagingObjectStore
{
    /// <summary>Whether staging does work ahead of the put (a decorator answers for the store it wraps).</summary>
    bool PreparesAhead { get; }

    /// <summary>
    /// Prepares <paramref name="content"/> for a put to a path in the same directory as <paramref name="near"/> (the
    /// final name may differ: a WAL id can move on while the bytes are being prepared). Nothing is visible to readers.
    /// </summary>
    ValueTask<IStagedPut> StageAsync(ObjectPath near, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);
}

/// <summary>Stages through the store when it can, and otherwise hands back a put that sends the bytes when asked.</summary>
internal static class StagedPuts
{
    /// <summary>Whether <paramref name="store"/> prepares puts ahead, so that staging the next one early gains time.</summary>
    public static bool PreparesAhead(IObjectStore store) => store is IStagingObjectStore { PreparesAhead: true };

    /// <summary>
    /// Stages through the decorators down to a store that prepares ahead; when none does, a plain put of the whole
    /// stack (decorators that merely pass staging on are then not wrapped around it for nothing).
    /// </summary>
    public static ValueTask<IStagedPut> StageAsync(IObjectStore store, ObjectPath near, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        store is IStagingObjectStore { PreparesAhead: true } staging
            ? staging.StageAsync(near, content, cancellationToken)
            : ValueTask.FromResult(Direct(store, content));

    /// <summary>A put with nothing prepared: each call sends the bytes.</summary>
    public static IStagedPut Direct(IObjectStore store, ReadOnlyMemory<byte> content) => new DirectPut(store, content);

    /// <summary>Nothing prepared: every call is a plain put.</summary>
    private sealed class DirectPut(IObjectStore store, ReadOnlyMemory<byte> content) : IStagedPut
    {
        public ReadOnlyMemory<byte> Content => content;

        public ValueTask<PutResult> PutAsync(ObjectPath path, PutOptions options, CancellationToken cancellationToken = default) =>
            store.PutAsync(path, content, options, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A staged put seen through a decorator: <paramref name="put"/> runs each attempt on the inner staged put.</summary>
internal sealed class DecoratedStagedPut(
    IStagedPut inner, Func<IStagedPut, ObjectPath, PutOptions, CancellationToken, ValueTask<PutResult>> put) : IStagedPut
{
    public ReadOnlyMemory<byte> Content => inner.Content;

    public ValueTask<PutResult> PutAsync(ObjectPath path, PutOptions options, CancellationToken cancellationToken = default) =>
        put(inner, path, options, cancellationToken);

    // Awaited, not passed on: the Coyote rewriter (Simulation tests) emits invalid IL for a forwarded ValueTask here.
    public async ValueTask DisposeAsync() => await inner.DisposeAsync().ConfigureAwait(false);
}
