using SlateSharp.Storage;

namespace SlateSharp.Leases;

/// <summary>Reads and writes reader leases at <c>leases/{guid}.lease</c> (docs/design/gc-and-readers.md).</summary>
internal sealed class ReaderLeaseStore(IObjectStore store)
{
    public const string Prefix = "leases/";
    private const string Suffix = ".lease";

    public static ObjectPath PathOf(Guid id) => ObjectPath.Parse($"{Prefix}{id:N}{Suffix}");

    /// <summary>Writes (or renews) <paramref name="lease"/>: a plain overwrite, since only its reader writes it.</summary>
    public async ValueTask WriteAsync(ReaderLease lease, CancellationToken cancellationToken)
    {
        var path = PathOf(lease.Id);
        var result = await store.PutAsync(path, ReaderLeaseCodec.Encode(lease), PutMode.Overwrite, cancellationToken).ConfigureAwait(false);
        if (!result.Stored)
        {
            throw Errors.Internal($"a lease overwrite answered {result.Outcome} (path={path} store={store.Location})");
        }
    }

    public ValueTask DeleteAsync(Guid id, CancellationToken cancellationToken) => store.DeleteAsync(PathOf(id), cancellationToken);

    /// <summary>
    /// Every lease stored, with objects under the prefix that are not leases reported by path: a corrupt lease must not
    /// stop GC, and it protects nothing (the caller decides how long it waits before treating it as expired).
    /// </summary>
    public async ValueTask<(IReadOnlyList<ReaderLease> Leases, IReadOnlyList<ObjectMetadata> Unreadable)> ListAsync(CancellationToken cancellationToken)
    {
        var leases = new List<ReaderLease>();
        var unreadable = new List<ObjectMetadata>();
        await foreach (var item in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            var result = await store.GetAsync(item.Path, ByteRange.All, cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                continue; // deleted by its reader since the listing
            }

            try
            {
                leases.Add(ReaderLeaseCodec.Decode(result.Data.Span, $"{item.Path.Value} store={store.Location}"));
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Data)
            {
                unreadable.Add(item);
            }
        }

        return (leases, unreadable);
    }
}
