namespace SlateSharp;

/// <summary>Explicit flushes: WAL uploads and memtable flushes, both done by their background owners.</summary>
public sealed partial class Db
{
    /// <summary>
    /// Makes everything written so far durable: by default as a WAL object (asking the WAL writer to upload now and
    /// waiting for it); with <see cref="FlushKind.Memtable"/>, as L0 SSTs recorded in the manifest.
    /// </summary>
    public async ValueTask FlushAsync(FlushOptions? options = null, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        try
        {
            if ((options?.Kind ?? FlushKind.Wal) == FlushKind.Memtable)
            {
                await FlushMemtablesAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _wal.FlushAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw StoppedError(e);
        }

        ThrowIfClosed();
    }

    /// <summary>
    /// Freezes the memtable and waits until every frozen memtable is in L0. Once background work is stopping nothing
    /// would flush a new frozen memtable, so the call fails with the reason instead of waiting for ever.
    /// </summary>
    private async Task FlushMemtablesAsync(CancellationToken cancellationToken)
    {
        Task[] pending;
        lock (_writeLock)
        {
            if (_stopping)
            {
                throw Rethrowable(_closed ?? Errors.ClosedFailed($"the database is stopping (store={Location})"));
            }

            FreezeLocked();
            pending = [.. _view.Immutables.Select(m => m.Flushed.Task)];
        }

        _flusher.Signal();
        try
        {
            await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The flusher was stopped under this wait (fenced, failed, or another close).
            throw StoppedError(e);
        }
    }

    /// <summary>What a call reports when background work it waited on was cancelled because the database stopped.</summary>
    private SlateSharpException StoppedError(Exception cause) =>
        Volatile.Read(ref _closed) is { } closed
            ? new SlateSharpException(closed.CloseReason ?? CloseReason.Failed, closed.Message, closed.InnerException ?? cause)
            : Errors.ClosedFailed($"the database stopped before this call completed (store={Location})", cause);
}
