using System.Buffers.Binary;
using System.Diagnostics;
using static SlateSharp.Bench.Workloads.BenchArgs;

namespace SlateSharp.Bench.Workloads;

/// <summary>
/// Sustained ingest with overwrites and the embedded compactor: N puts of random keys drawn from a smaller key space,
/// then wait for compaction to settle and collect garbage. Prints ingest puts/s, L0 count over time (sampled every
/// 250 ms), writer stall time, write amplification (bytes uploaded / logical bytes put), compaction MB/s, read
/// latency of old keys before and after compaction, and space amplification (SST bytes stored / live logical bytes).
/// </summary>
internal static class IngestWorkload
{
    private const string Usage = """
        usage: SlateSharp.Bench ingest [options]
          --url URL          store (default: a new directory under the temp dir, removed afterwards unless --keep)
          --keys N           puts (default 10000000)
          --key-space N      distinct keys the puts draw from (default keys / 2: about half the puts overwrite)
          --value-size N     value bytes (default 100; keys are 16 bytes)
          --concurrency N    writer tasks (default 4)
          --memtable-mib N   memtable size (default 64)
          --reads N          random gets of old keys before and after compaction (default 20000)
          --subcompactions N parallel key ranges per compaction job (default: processor count, at most 8)
          --seed N           generator seed (default 42)
          --keep             keep the local directory
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var keys = Option(args, "--keys", 10_000_000L);
        var keySpace = Option(args, "--key-space", Math.Max(1, keys / 2));
        var valueSize = (int)Option(args, "--value-size", 100);
        var concurrency = (int)Option(args, "--concurrency", 4);
        var reads = Option(args, "--reads", 20_000);
        var seed = (int)Option(args, "--seed", 42);
        await using var bench = await BenchStore.OpenAsync(args, "slatesharp-ingest");
        var (url, store, metrics) = (bench.Url, bench.Store, bench.Metrics);
        var compaction = new CompactionOptions();
        if (Text(args, "--subcompactions") is not null)
        {
            compaction = new CompactionOptions { MaxSubcompactions = (int)Option(args, "--subcompactions", 1) };
        }

        var options = new DbOptions { MemtableSizeBytes = Option(args, "--memtable-mib", 64) << 20, Compaction = compaction, RandomSeed = seed };
        Console.WriteLine($"ingest: {keys:N0} puts over {keySpace:N0} keys of 16 B, values of {valueSize} B, {concurrency} writers, memtable {options.MemtableSizeBytes >> 20} MiB, " +
                          $"L0 limit {options.L0MaxSsts}, compaction min {compaction.MinSourcesPerJob}/max {compaction.MaxSourcesPerJob} sources, ratio {compaction.SizeRatio}, " +
                          $"{compaction.MaxSubcompactions} subcompactions, store {url}");
        var db = await SlateSharp.Db.OpenAsync(store, string.Empty, options);
        try
        {
            var l0 = new List<int>();
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    l0.Add(db.GetStats().L0Ssts);
                    await Task.Delay(250, CancellationToken.None);
                }
            });

            var ingest = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
            {
                var random = new Random(seed + w);
                var key = new byte[16];
                var value = new byte[valueSize];
                for (var i = (long)w; i < keys; i += concurrency)
                {
                    Fill(random.NextInt64(keySpace), i, key, value);
                    await db.PutAsync(key, value, WriteOptions.NoWait);
                }
            })));
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            ingest.Stop();
            var uploadedByIngest = metrics.BytesUp;
            var before = await ReadOldKeysAsync(db, reads, keySpace, seed);

            // Let compaction settle: nothing due once L0 is below the job minimum and no job ran for a second.
            var settle = Stopwatch.StartNew();
            var lastJobs = -1L;
            while (settle.Elapsed < TimeSpan.FromMinutes(30))
            {
                var jobs = db.CompactionStats?.Jobs ?? 0;
                if (jobs == lastJobs && db.GetStats().L0Ssts < compaction.MinSourcesPerJob)
                {
                    break;
                }

                lastJobs = jobs;
                await Task.Delay(1000);
            }

            settle.Stop();
            await sampling.CancelAsync();
            await sampler;
            var after = await ReadOldKeysAsync(db, reads, keySpace, seed + 1);
            var gc = await db.RunGarbageCollectionAsync(new GcOptions { SstMinAge = TimeSpan.FromMilliseconds(1), ManifestMinAge = TimeSpan.FromMilliseconds(1), WalMinAge = TimeSpan.FromMilliseconds(1), FenceMinAge = TimeSpan.FromMilliseconds(1), ManifestsKept = 2 });
            long stored = 0;
            await foreach (var item in store.ListAsync("compacted/"))
            {
                stored += item.Size;
            }

            var stats = db.CompactionStats!;
            var logical = keys * (16L + valueSize);
            var live = Math.Min(keySpace, Distinct(keys, keySpace)) * (16L + valueSize);
            var shape = db.GetStats();
            l0.Sort();
            Console.WriteLine($"ingest:          {ingest.Elapsed.TotalSeconds:0.0} s, {keys / ingest.Elapsed.TotalSeconds:N0} puts/s, {logical / 1e6 / ingest.Elapsed.TotalSeconds:0.0} MB/s logical");
            Console.WriteLine($"l0 ssts:         max {l0[^1]}, p50 {l0[l0.Count / 2]}, p99 {l0[(int)(l0.Count * 0.99)]} over {l0.Count} samples (limit {options.L0MaxSsts}); writer stall {db.L0StallTime.TotalSeconds:0.0} s");
            Console.WriteLine($"compaction:      {stats.Jobs} jobs, {stats.BytesRead / 1e6:0} MB read, {stats.BytesWritten / 1e6:0} MB written, {stats.MegabytesPerSecond:0.0} MB/s while busy ({stats.Busy.TotalSeconds:0.0} s), {stats.FailedJobs} failed; settled {settle.Elapsed.TotalSeconds:0.0} s after ingest");
            Console.WriteLine($"write amp:       {(double)uploadedByIngest / logical:0.00}x during ingest, {(double)metrics.BytesUp / logical:0.00}x with compaction settled ({metrics.BytesUp / 1e6:0} MB uploaded for {logical / 1e6:0} MB put)");
            Console.WriteLine($"space amp:       {(double)stored / live:0.00}x ({stored / 1e6:0} MB of SSTs for {live / 1e6:0} MB live); {shape.L0Ssts} L0 SSTs, {shape.SortedRuns} runs ({string.Join(", ", shape.SortedRunBytes.Select(b => $"{b / 1e6:0} MB"))})");
            Console.WriteLine($"old-key gets:    before compaction p50 {Micros(before.Percentile(0.5))} p99 {Micros(before.Percentile(0.99))}; after p50 {Micros(after.Percentile(0.5))} p99 {Micros(after.Percentile(0.99))}");
            Console.WriteLine($"gc:              {gc.Ssts.Count} ssts ({gc.Ssts.Bytes / 1e6:0} MB), {gc.Manifests.Count} manifests, {gc.WalObjects.Count} wal objects deleted");
            Console.WriteLine("request cost:    " + RequestCost.Describe(db.GetStats().Requests, keys));
            Console.WriteLine("object store:    " + metrics.ToString().Replace("\n", "\n                 ", StringComparison.Ordinal));
            await db.CloseAsync();
            return 0;
        }
        finally
        {
            await db.DisposeAsync();
        }
    }

    /// <summary>Expected distinct keys after n uniform draws from a key space of size k.</summary>
    private static long Distinct(long n, long k) => (long)(k * (1 - Math.Exp(-(double)n / k)));

    /// <summary>
    /// Gets of random keys from the lowest tenth of the key space (written early, and overwritten least recently); the
    /// second sample uses other keys, so it is not served by the blocks the first one cached.
    /// </summary>
    private static async Task<LatencyHistogram> ReadOldKeysAsync(SlateSharp.Db db, long reads, long keySpace, int seed)
    {
        var histogram = new LatencyHistogram();
        var random = new Random(seed ^ 0x5eed);
        var key = new byte[16];
        var value = new byte[8];
        for (var n = 0; n < reads; n++)
        {
            Fill(random.NextInt64(Math.Max(1, keySpace / 10)), 0, key, value);
            var started = Stopwatch.GetTimestamp();
            _ = await db.GetAsync(key);
            histogram.Record(Stopwatch.GetElapsedTime(started));
        }

        return histogram;
    }

    /// <summary>Key k: a 64-bit mix of k then k itself (random order); the value carries the put's index.</summary>
    private static void Fill(long k, long i, byte[] key, byte[] value)
    {
        var mixed = (ulong)k * 0x9E3779B97F4A7C15UL;
        mixed ^= mixed >> 29;
        BinaryPrimitives.WriteUInt64BigEndian(key, mixed);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(8), k);
        for (var j = 0; j + 8 <= value.Length; j += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(j), (ulong)i * (ulong)(j + 1));
        }
    }
}
