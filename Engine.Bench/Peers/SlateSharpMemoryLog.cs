using System.Diagnostics;
using System.Globalization;

namespace SlateSharp.Bench.Peers;

/// <summary>
/// A diagnostic for memory questions: with <c>SLATESHARP_BENCH_MEMLOG=SECONDS</c> set, every SECONDS one line on
/// stderr puts what the database holds (<see cref="Db.GetStats"/>: unflushed bytes, frozen memtables, L0, sorted
/// runs, writer stalls) beside what the process holds: working set, managed heap, committed bytes, the large object
/// heap after the last collection, and the heap and survivors of the last background and full gen-2 collections.
/// Survivors of a gen-2 collection are the live heap; the rest of the working set is garbage the GC has not yet
/// collected or has not returned (docs/benchmarks.md, "Memory over a long fill").
/// </summary>
internal static class SlateSharpMemoryLog
{
    public const string Variable = "SLATESHARP_BENCH_MEMLOG";

    public static void StartIfAsked(Db db)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { } every || !double.TryParse(every, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds));
                DbStats stats;
                try
                {
                    stats = db.GetStats();
                }
                catch (SlateSharpException)
                {
                    return;
                }

                var last = GC.GetGCMemoryInfo(GCKind.Any);
                var background = GC.GetGCMemoryInfo(GCKind.Background);
                var full = GC.GetGCMemoryInfo(GCKind.FullBlocking);
                using var process = Process.GetCurrentProcess();
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"memlog t={clock.Elapsed.TotalSeconds:0} rss={process.WorkingSet64 >> 20} heap={GC.GetTotalMemory(false) >> 20} committed={last.TotalCommittedBytes >> 20} " +
                    $"loh={last.GenerationInfo[3].SizeAfterBytes >> 20} lastbg2(heap={background.HeapSizeBytes >> 20} promoted={background.PromotedBytes >> 20}) " +
                    $"lastfull(heap={full.HeapSizeBytes >> 20} promoted={full.PromotedBytes >> 20}) gcs={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} " +
                    $"unflushed={stats.UnflushedBytes >> 20} wal={stats.UnstoredWalBytes >> 20} frozen={stats.FrozenMemtables} memtables={stats.MemtableMemoryBytes >> 20} pool={stats.MemtablePoolBytes >> 20} reused={stats.MemtableChunksReused} dropped={stats.MemtableChunksDropped} l0={stats.L0Ssts} runs={stats.SortedRuns} stalls={stats.WriterStalls}"));
            }
        });
    }
}
