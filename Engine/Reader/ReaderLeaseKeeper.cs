using Microsoft.Extensions.Logging;
using SlateSharp.Concurrency;
using SlateSharp.Leases;

namespace SlateSharp.Reader;

/// <summary>
/// Keeps one reader's lease (docs/design/gc-and-readers.md): writes it at open, rewrites it every third of its
/// lifetime (and soon after the reader moves to a newer manifest) naming the oldest manifest the reader may still
/// read, and deletes it on close. A renewal that fails is logged and tried again at the next beat; the lease still
/// protects until it expires, two more beats later.
/// </summary>
internal sealed class ReaderLeaseKeeper(ReaderLeaseStore leases, Guid id, TimeSpan lifetime, TimeProvider time, ILogger logger)
{
    private readonly AsyncSignal _wake = new();
    private ulong _written;

    public Guid Id => id;

    /// <summary>The manifest id the stored lease names (0 before the first write).</summary>
    public ulong WrittenManifestId => Interlocked.Read(ref _written);

    /// <summary>Writes the lease naming <paramref name="manifestId"/>, expiring one lifetime from now.</summary>
    public async ValueTask WriteAsync(ulong manifestId, CancellationToken cancellationToken)
    {
        var expiresAt = (time.GetUtcNow() + lifetime).ToUnixTimeMilliseconds();
        await leases.WriteAsync(new ReaderLease(id, manifestId, expiresAt), cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _written, manifestId);
    }

    /// <summary>Asks for a rewrite now, because the oldest manifest in use may have moved.</summary>
    public void Wake() => _wake.Set();

    /// <summary>Renews until cancelled; <paramref name="oldestInUse"/> says which manifest to name each time.</summary>
    public async Task RunAsync(Func<ulong> oldestInUse, CancellationToken cancellationToken)
    {
        var beat = lifetime / 3;
        var due = time.GetUtcNow() + beat;
        while (true)
        {
            var wait = due - time.GetUtcNow();
            await _wake.WaitAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, time, cancellationToken).ConfigureAwait(false);
            var oldest = oldestInUse();
            if (time.GetUtcNow() < due && oldest == WrittenManifestId)
            {
                continue; // woken, but the lease already names the oldest manifest in use
            }

            try
            {
                await WriteAsync(oldest, cancellationToken).ConfigureAwait(false);
                due = time.GetUtcNow() + beat;
            }
            catch (SlateSharpException e)
            {
                logger.LogWarning(e, "could not renew reader lease {Lease}; trying again at the next beat", ReaderLeaseStore.PathOf(id));
                due = time.GetUtcNow() + beat;
            }
        }
    }

    /// <summary>Deletes the lease; a failure is logged (the lease then expires by itself).</summary>
    public async ValueTask DeleteAsync()
    {
        try
        {
            await leases.DeleteAsync(id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SlateSharpException e)
        {
            logger.LogWarning(e, "could not delete reader lease {Lease}; it expires by itself", ReaderLeaseStore.PathOf(id));
        }
    }
}
