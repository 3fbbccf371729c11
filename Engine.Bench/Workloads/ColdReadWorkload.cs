using System.Buffers.Binary;
using System.Diagnostics;
using static SlateSharp.Bench.Workloads.BenchArgs;

namespace SlateSharp.Bench.Workloads;

/// <summary>
/// Cold point reads (issue 11): loads N keys and flushes them (unless <c>--skip-load</c>), then reads random keys on a
/// fresh database with a small block cache, in four passes: no disk cache; an empty disk cache; the same keys again
/// after a reopen (a warm disk cache); other keys on that warm cache. Prints per pass the store GETs per read, read
/// latency percentiles and the disk cache's counters. The manifest is not polled during a pass, so the GETs are the
/// reads' own.
/// </summary>
internal static class ColdReadWorkload
{
    private const string Usage = """
        usage: SlateSharp.Bench coldread [options]
          --url URL            store (default: a new directory under the temp dir, removed afterwards unless --keep)
          --keys N             keys to load (default 1000000)
          --value-size N       value bytes (default 100)
          --reads N            random reads per pass (default 20000)
          --concurrency N      reader tasks (default 1)
          --block-cache-mib N  in-memory block cache (default 1)
          --cache-dir DIR      disk cache directory (default a new one under the temp dir, removed afterwards)
          --cache-mib N        disk cache bound (default 4096)
          --chunk-kib N        disk cache chunk size (default 64)
          --skip-load          read a database loaded earlier with the same --keys and --seed
          --seed N             key, value and sample seed (default 42)
          --keep             keep the local store directory
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var keys = Option(args, "--keys", 1_000_000L);
        var valueSize = (int)Option(args, "--value-size", 100);
        var reads = (int)Option(args, "--reads", 20_000);
        var concurrency = (int)Option(args, "--concurrency", 1);
        var seed = (int)Option(args, "--seed", 42);
        var cacheDir = Text(args, "--cache-dir") ?? Path.Combine(Path.GetTempPath(), $"slatesharp-coldread-cache-{Environment.ProcessId}");
        var diskCache = new DiskCacheOptions
        {
            Directory = cacheDir,
            MaxBytes = Option(args, "--cache-mib", 4096) << 20,
            ChunkSizeBytes = (int)Option(args, "--chunk-kib", 64) << 10,
        };

        await using var bench = await BenchStore.OpenAsync(args, "slatesharp-coldread");
        Console.WriteLine($"coldread: {keys:N0} keys, values of {valueSize} B, {reads:N0} reads per pass, {concurrency} readers, " +
                          $"block cache {Option(args, "--block-cache-mib", 1)} MiB, disk chunk {diskCache.ChunkSizeBytes >> 10} KiB, store {bench.Url}");
        if (!args.Contains("--skip-load"))
        {
            await LoadAsync(bench, keys, valueSize, seed);
        }

        if (Directory.Exists(cacheDir))
        {
            Directory.Delete(cacheDir, recursive: true);
        }

        try
        {
            var sample = Sample(keys, reads, seed);
            var other = Sample(keys, reads, seed + 1);
            await PassAsync("no disk cache", bench, args, null, sample, valueSize, concurrency, seed);
            await PassAsync("cold disk cache", bench, args, diskCache, sample, valueSize, concurrency, seed);
            await PassAsync("warm, same keys", bench, args, diskCache, sample, valueSize, concurrency, seed);
            await PassAsync("warm, other keys", bench, args, diskCache, other, valueSize, concurrency, seed);
        }
        finally
        {
            if (Text(args, "--cache-dir") is null && Directory.Exists(cacheDir))
            {
                Directory.Delete(cacheDir, recursive: true);
            }
        }

        return 0;
    }

    private static async Task LoadAsync(BenchStore bench, long keys, int valueSize, int seed)
    {
        var load = Stopwatch.StartNew();
        await using (var db = await SlateSharp.Db.OpenAsync(bench.Store, string.Empty, new DbOptions { RandomSeed = seed }))
        {
            var key = new byte[16];
            var value = new byte[valueSize];
            for (var i = 0L; i < keys; i++)
            {
                Fill(i, seed, key, value);
                await db.PutAsync(key, value, WriteOptions.NoWait);
            }

            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }

        Console.WriteLine($"load:  {keys:N0} keys in {load.Elapsed.TotalSeconds:0.0} s, {bench.Metrics.Requests("put")} PUTs");
    }

    private static async Task PassAsync(string name, BenchStore bench, string[] args, DiskCacheOptions? diskCache, long[] sample, int valueSize, int concurrency, int seed)
    {
        var options = new DbOptions
        {
            BlockCacheBytes = Option(args, "--block-cache-mib", 1) << 20,
            Compaction = new CompactionOptions { Enabled = false },
            L0MaxSsts = 1000,
            RandomSeed = seed,
            DiskCache = diskCache,
            // The manifest poll (a GET and a HEAD per interval) follows the wall clock, not the reads: on a slow store
            // (the GCS emulator, 3 reads/s) it added 0.2 GET per read. Nothing changes the manifest during a pass.
            ManifestPollInterval = TimeSpan.FromHours(1),
        };
        await using var db = await SlateSharp.Db.OpenAsync(bench.Store, string.Empty, options);
        var latencies = new LatencyHistogram();
        var getsBefore = bench.Metrics.Requests("get");
        var bytesBefore = bench.Metrics.BytesDown;
        var next = -1;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            var key = new byte[16];
            var expected = new byte[valueSize];
            for (var i = Interlocked.Increment(ref next); i < sample.Length; i = Interlocked.Increment(ref next))
            {
                Fill(sample[i], seed, key, expected);
                var started = Stopwatch.GetTimestamp();
                var value = await db.GetAsync(key);
                latencies.Record(Stopwatch.GetElapsedTime(started));
                if (value is null || !value.AsSpan().SequenceEqual(expected))
                {
                    throw new InvalidOperationException($"key {sample[i]} read back wrong");
                }
            }
        })));
        var gets = bench.Metrics.Requests("get") - getsBefore;
        Console.WriteLine($"{name,-17} GET/read {(double)gets / sample.Length:0.000}  p50 {Micros(latencies.Percentile(0.5))}  p90 {Micros(latencies.Percentile(0.9))}  " +
                          $"p99 {Micros(latencies.Percentile(0.99))}  {sample.Length / wall.Elapsed.TotalSeconds:0} reads/s  {(bench.Metrics.BytesDown - bytesBefore) >> 10} KiB down");
        if (db.DiskCacheStats is { } stats)
        {
            Console.WriteLine($"{"",-17} disk cache: {stats.Hits} hits, {stats.Misses} misses, {stats.BytesServed >> 10} KiB served, {stats.BytesFetched >> 10} KiB fetched, " +
                              $"{stats.CurrentBytes >> 20} MiB in {stats.CurrentChunks} chunks, {stats.Evictions} evictions, {stats.Corrupt} corrupt, {stats.DiskErrors} disk errors");
        }
    }

    private static long[] Sample(long keys, int reads, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, reads).Select(_ => random.NextInt64(keys)).ToArray();
    }

    /// <summary>Key i (big-endian, so keys load in order) and its value, derived from i and the seed.</summary>
    private static void Fill(long i, int seed, byte[] key, byte[] value)
    {
        BinaryPrimitives.WriteInt64BigEndian(key, i);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(8), i ^ 0x5DEECE66DL);
        var x = (ulong)i * 0x9E3779B97F4A7C15UL ^ (ulong)seed;
        for (var j = 0; j < value.Length; j++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            value[j] = (byte)x;
        }
    }
}
