using System.Text;
using SlateSharp.Manifest;

namespace SlateSharp.Tests.TestSupport;

/// <summary>Valid SST handles and manifest helpers for manifest tests.</summary>
internal static class TestManifests
{
    private static long _next;

    /// <summary>A fresh, valid handle with a unique id and a key range named after <paramref name="label"/>.</summary>
    public static SstHandle Handle(string label)
    {
        var n = Interlocked.Increment(ref _next);
        Span<byte> random = stackalloc byte[10];
        BitConverter.TryWriteBytes(random, n);
        var id = SstId.Create(1_700_000_000_000 + n, random);
        return new SstHandle(id, 4096, Encoding.UTF8.GetBytes(label + "-a"), Encoding.UTF8.GetBytes(label + "-z"), 10);
    }

    /// <summary>
    /// A change that puts <paramref name="handle"/> at the front of L0 (as a memtable flush does); idempotent, as every
    /// manifest change must be: a manifest that already lists the handle stays as it is.
    /// </summary>
    public static Func<DbManifest, DbManifest> AddL0(SstHandle handle) =>
        m => m.L0.Any(h => h.Id == handle.Id) ? m : m with { L0 = [handle, .. m.L0], NextWalId = m.NextWalId + 1, ReplayAfterWalId = m.NextWalId };

    public static IEnumerable<SstId> AllSsts(DbManifest manifest) =>
        manifest.L0.Select(h => h.Id).Concat(manifest.SortedRuns.SelectMany(r => r.Ssts).Select(h => h.Id));
}
