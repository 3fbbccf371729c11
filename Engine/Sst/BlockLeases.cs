using System.Runtime.InteropServices;
using SlateSharp.Format;

namespace SlateSharp.Sst;

/// <summary>Ends the lease a get took on the block its row came from (<see cref="Block.TryLease"/>).</summary>
internal static class BlockLeases
{
    /// <summary>
    /// Releases the lease behind <paramref name="row"/>'s value when it lives in a reusable block: call once the
    /// value has been copied, exactly once per row that <see cref="SstReader"/>'s point lookup returned.
    /// </summary>
    public static void Release(RowEntry? row)
    {
        if (row is { } found && MemoryMarshal.TryGetMemoryManager(found.Value, out Block? block))
        {
            block.Release();
        }
    }
}
