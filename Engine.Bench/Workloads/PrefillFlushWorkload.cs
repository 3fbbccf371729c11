using System.Buffers.Binary;
using System.Diagnostics;
using static SlateSharp.Bench.Workloads.BenchArgs;

namespace SlateSharp.Bench.Workloads;

/// <summary>
/// The main job: load N keys as fast as the database takes them, then flush the memtables to L0 and the WAL — the
/// sequence that once failed with a spurious "fenced" in SlateDB's S3 benchmark. Prints puts/s, put latency
/// percentiles, flush times, peak memory and the object-store requests by kind.
/// </summary>
internal static class PrefillFlushWorkload
{
    private const string Usage = """
        usage: SlateSharp.Bench prefill-flush [options]
          --url URL          store (default: a new directory under the temp dir, removed afterwards unless --keep)
          --keys N           keys to write (default 1000000)
          --key-size N       key bytes (default 16)
          --value-size N     value bytes (default 100)
          --concurrency N    writer tasks (default 4)
          --durable          wait for each write to be in the WAL (default: acknowledge from the memtable)
          --max-wal-uploads N  cap on WAL uploads per second (default none)
          --memtable-mib N   memtable size, i.e. L0 SST size (default 64)
          --max-unflushed-mib N  memory budget for unflushed writes (default 1024)
          --compression C    none, lz4 or zstd (default none)
          --seed N           key and value generator seed (default 42)
          --verify N         read back N random keys at the end (default 10000)
          --keep             keep the local directory
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var keys = Option(args, "--keys", 1_000_000L);
        var keySize = (int)Option(args, "--key-size", 16);
        var valueSize = (int)Option(args, "--value-size", 100);
        var concurrency = (int)Option(args, "--concurrency", 4);
        var durable = args.Contains("--durable");
        var seed = (int)Option(args, "--seed", 42);
        var verify = Option(args, "--verify", 10_000);
        var compression = Enum.Parse<CompressionCodec>(Text(args, "--compression") ?? "none", ignoreCase: true);
        if (keySize < 8 || valueSize < 0 || keys < 1 || concurrency < 1)
        {
            Console.Error.WriteLine("--key-size must be at least 8, --keys and --concurrency at least 1\n" + Usage);
            return 2;
        }

        await using var bench = await BenchStore.OpenAsync(args, "slatesharp-bench");
        var (url, store, metrics) = (bench.Url, bench.Store, bench.Metrics);
        var options = new DbOptions
        {
            MemtableSizeBytes = Option(args, "--memtable-mib", 64) << 20,
            MaxUnflushedBytes = Option(args, "--max-unflushed-mib", 1024) << 20,
            Compression = compression,
            RandomSeed = seed,
            MaxWalUploadsPerSecond = Text(args, "--max-wal-uploads") is { } cap ? int.Parse(cap, System.Globalization.CultureInfo.InvariantCulture) : null,
        };

        Console.WriteLine($"prefill-flush: {keys:N0} keys of {keySize} B, values of {valueSize} B, {concurrency} writers, " +
                          $"{(durable ? "durable" : "memtable")} acks, memtable {options.MemtableSizeBytes >> 20} MiB, compression {compression}, store {url}");
        using var memory = new MemorySampler();
        var db = await SlateSharp.Db.OpenAsync(store, string.Empty, options);
        try
        {
            var latencies = new LatencyHistogram();
            var writeOptions = durable ? WriteOptions.Default : WriteOptions.NoWait;
            var prefill = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
            {
                var key = new byte[keySize];
                var value = new byte[valueSize];
                for (var i = (long)w; i < keys; i += concurrency)
                {
                    Fill(i, seed, key, value);
                    var started = Stopwatch.GetTimestamp();
                    await db.PutAsync(key, value, writeOptions);
                    latencies.Record(Stopwatch.GetElapsedTime(started));
                }
            })));
            prefill.Stop();

            var memtableFlush = Stopwatch.StartNew();
            await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
            memtableFlush.Stop();
            var walFlush = Stopwatch.StartNew();
            await db.FlushAsync();
            walFlush.Stop();
            // The writes' requests, apart from the reads that verify them: per million writes, only these are the
            // cost of writing. HEADs are the manifest poll (one per ManifestPollInterval), so they follow the wall clock.
            var writeRequests = db.GetStats().Requests;
            var verified = await VerifyAsync(db, keys, verify, seed, keySize, valueSize);
            memory.Stop();

            var bytes = keys * (keySize + valueSize);
            Console.WriteLine($"prefill:        {prefill.Elapsed.TotalSeconds:0.00} s, {keys / prefill.Elapsed.TotalSeconds:N0} puts/s, {bytes / 1e6 / prefill.Elapsed.TotalSeconds:0.0} MB/s of keys+values");
            Console.WriteLine($"put latency:    p50 {Micros(latencies.Percentile(0.50))}, p99 {Micros(latencies.Percentile(0.99))}, p99.9 {Micros(latencies.Percentile(0.999))}, max bucket {Micros(latencies.Percentile(1.0))}");
            Console.WriteLine($"flush memtable: {memtableFlush.Elapsed.TotalMilliseconds:0} ms; flush wal: {walFlush.Elapsed.TotalMilliseconds:0} ms (both succeeded)");
            // Every figure below comes from the public GetStats(), as an application would read it.
            var stats = db.GetStats();
            Console.WriteLine($"manifest:       id {stats.ManifestId}, {stats.L0Ssts} L0 SSTs, {stats.ManifestConflicts} CAS conflicts; {stats.MemtableFlushes} SSTs ({stats.MemtableFlushBytes / 1e6:0.0} MB), {stats.WalObjectsWritten} WAL objects; writer stalls {stats.WriterStalls}");
            var verifyRequests = RequestCost.Between(writeRequests, stats.Requests);
            Console.WriteLine("request cost:   writes (prefill and both flushes), " + RequestCost.Describe(writeRequests, keys));
            Console.WriteLine("                whole run (the verify reads too), " + RequestCost.Describe(stats.Requests, keys));
            Console.WriteLine($"verify:         {verified:N0} random keys read back, {verifyRequests.Gets / (double)Math.Max(1, verified):0.000} GETs per get");
            Console.WriteLine($"memory:         peak RSS {memory.PeakRss / 1e6:0} MB, peak managed heap {memory.PeakHeap / 1e6:0} MB (budget for unflushed writes {options.MaxUnflushedBytes >> 20} MiB)");
            Console.WriteLine("object store:   " + metrics.ToString().Replace("\n", "\n                ", StringComparison.Ordinal));
            await db.CloseAsync();
            return 0;
        }
        finally
        {
            await db.DisposeAsync();
        }
    }

    private static async Task<long> VerifyAsync(SlateSharp.Db db, long keys, long count, int seed, int keySize, int valueSize)
    {
        var random = new Random(seed);
        var key = new byte[keySize];
        var value = new byte[valueSize];
        for (var n = 0; n < count; n++)
        {
            var i = random.NextInt64(keys);
            Fill(i, seed, key, value);
            var got = await db.GetAsync(key);
            if (got is null || !got.AsSpan().SequenceEqual(value))
            {
                throw new InvalidOperationException($"key {i} did not read back");
            }
        }

        return count;
    }

    /// <summary>Key i: a 64-bit mix of (i, seed) then i itself, so keys arrive in random order; the value depends on i.</summary>
    private static void Fill(long i, int seed, byte[] key, byte[] value)
    {
        var mixed = (ulong)i * 0x9E3779B97F4A7C15UL ^ (ulong)seed;
        mixed ^= mixed >> 29;
        BinaryPrimitives.WriteUInt64BigEndian(key, mixed);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(8), i);
        for (var j = 0; j + 8 <= value.Length; j += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(j), mixed * (ulong)(j + 1));
        }
    }


    /// <summary>Samples the process's resident set and managed heap every 50 ms, keeping the peaks.</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sampling;

        public MemorySampler() => _sampling = Task.Run(SampleAsync);

        public long PeakRss { get; private set; }

        public long PeakHeap { get; private set; }

        public void Stop()
        {
            _stop.Cancel();
            _sampling.Wait();
            Sample();
        }

        public void Dispose() => _stop.Dispose();

        private async Task SampleAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                try
                {
                    await Task.Delay(50, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        private void Sample()
        {
            using var process = Process.GetCurrentProcess();
            PeakRss = Math.Max(PeakRss, process.WorkingSet64);
            PeakHeap = Math.Max(PeakHeap, GC.GetTotalMemory(false));
        }
    }
}
