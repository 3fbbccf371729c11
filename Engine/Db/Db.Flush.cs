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
        if ((options?.Kind ?? FlushKind.Wal) == FlushKind.Memtable)
        {
            await FlushMemtablesAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _wal.FlushAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        ThrowIfClosed();
    }

    private async Task FlushMemtablesAsync(CancellationToken cancellationToken)
    {
        Task[] pending;
        lock (_writeLock)
        {
            FreezeLocked();
            pending = [.. _view.Immutables.Select(m => m.Flushed.Task)];
        }

        _flusher.Signal();
        await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
