using System.Diagnostics;
using SlateSharp.Bench.Peers;

namespace SlateSharp.Bench.Compare;

/// <summary>
/// Runs one workload on one engine in a fresh directory and returns its figures. Only the measured phase is timed;
/// set-up (loading the keys the read workloads read, flushing them to files, reopening for a cold cache) is not.
/// </summary>
internal static class WorkloadRunner
{
    private const int LoadBatch = 1000;

    public static async Task<WorkloadResult> RunAsync(string engineName, WorkloadSpec spec, string directory, int round, MemoryTimeline? timeline = null)
    {
        Directory.CreateDirectory(directory);
        var keys = new BenchKeys(spec.Keys, spec.KeySize, spec.ValueSize);
        var options = new PeerOptions
        {
            Directory = directory,
            Durable = spec.Workload == "durable",
            CacheBytes = spec.CacheBytes,
            MaxUnflushedBytes = spec.MaxUnflushedBytes,
        };
        var ownTimeline = timeline is null;
        timeline ??= new MemoryTimeline();
        try
        {
            IBenchEngine? engine = await PeerEngines.OpenAsync(engineName, options);
            try
            {
                var label = $"{spec.Workload} {engineName}" + (round > 0 ? $" round {round}" : "");
                Measured measured;
                switch (spec.Workload)
                {
                    case "fill" or "fillseq":
                        measured = await FillAsync(engine, keys, spec, spec.Workload == "fill" && spec.RandomOrder, label);
                        break;
                    case "durable":
                        measured = await DurableAsync(engine, keys, spec, label);
                        break;
                    case "open":
                        measured = await OpenEmptyAsync(engineName, options, spec.OpsOrDefault);
                        break;
                    default:
                        await LoadAsync(engine, keys);
                        await engine.FlushToFilesAsync();
                        if (spec.ColdCache)
                        {
                            // Null while closed, so a failed reopen is not followed by a second dispose.
                            var closing = engine;
                            engine = null;
                            await closing.DisposeAsync();
                            engine = await PeerEngines.OpenAsync(engineName, options);
                        }
                        else if (spec.Workload is "readrandom" or "scan" or "mixed")
                        {
                            await WarmAsync(engine, keys);
                        }

                        measured = spec.Workload == "mixed" ? await MixedAsync(engine, keys, spec, label) : await ReadAsync(engine, keys, spec, label);
                        break;
                }

                timeline.Stop();
                return new WorkloadResult
                {
                    Engine = engineName,
                    Workload = spec.Workload,
                    Round = round,
                    Ops = measured.Ops,
                    Seconds = measured.Seconds,
                    P50Micros = measured.Latency.PercentileMicros(50),
                    P99Micros = measured.Latency.PercentileMicros(99),
                    P999Micros = measured.Latency.PercentileMicros(99.9),
                    MaxMicros = measured.Latency.MaxMicros,
                    Gc = measured.Gc,
                    PeakRssBytes = timeline.PeakRss,
                    PeakHeapBytes = timeline.PeakHeap,
                    Note = engine.Describe(measured.Ops),
                };
            }
            finally
            {
                if (engine is not null)
                {
                    await engine.DisposeAsync();
                }
            }
        }
        finally
        {
            if (ownTimeline)
            {
                timeline.Dispose();
            }
        }
    }

    /// <summary>Opens and closes <paramref name="count"/> empty databases, each in a fresh directory; the latency is one open.</summary>
    private static async Task<Measured> OpenEmptyAsync(string engineName, PeerOptions options, long count)
    {
        var latency = new LatencyRecorder();
        var gc = GcActivity.Now();
        var opened = TimeSpan.Zero;
        for (var i = 0; i < count; i++)
        {
            var directory = Directory.CreateDirectory(Path.Combine(options.Directory, $"open-{i}")).FullName;
            var started = Stopwatch.GetTimestamp();
            var engine = await PeerEngines.OpenAsync(engineName, options with { Directory = directory });
            latency.RecordSince(started);
            opened += Stopwatch.GetElapsedTime(started);
            await engine.DisposeAsync();
        }

        // Ops/s counts opens per second of open time only (closing is not what is measured).
        return new Measured(count, opened.TotalSeconds, latency, GcActivity.Since(gc));
    }

    private static async Task<Measured> FillAsync(IBenchEngine engine, BenchKeys keys, WorkloadSpec spec, bool random, string label)
    {
        long next = 0;
        await using var progress = new LiveProgress(label, keys.Count);
        return await RunWorkersAsync(spec.WritersOrDefault, async (_, latency) =>
        {
            var rows = new List<KeyValuePair<byte[], byte[]>>(spec.Batch);
            long ops = 0;
            while (true)
            {
                var first = Interlocked.Add(ref next, spec.Batch) - spec.Batch;
                if (first >= keys.Count)
                {
                    return ops;
                }

                var last = Math.Min(keys.Count, first + spec.Batch);
                rows.Clear();
                for (var p = first; p < last; p++)
                {
                    var index = keys.IndexAt(p, random);
                    rows.Add(new(keys.Key(index), keys.Value(index)));
                }

                var started = Stopwatch.GetTimestamp();
                if (rows.Count == 1)
                {
                    await engine.PutAsync(rows[0].Key, rows[0].Value);
                }
                else
                {
                    await engine.PutBatchAsync(rows);
                }

                latency.RecordSince(started);
                ops += rows.Count;
                progress.Add(rows.Count);
            }
        });
    }

    private static async Task<Measured> DurableAsync(IBenchEngine engine, BenchKeys keys, WorkloadSpec spec, string label)
    {
        long next = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(spec.Duration.TotalSeconds * Stopwatch.Frequency);
        await using var progress = new LiveProgress(label, 0, spec.Duration);
        return await RunWorkersAsync(spec.WritersOrDefault, async (_, latency) =>
        {
            long ops = 0;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                // Distinct keys in random order, wrapping if a fast engine writes more than Keys in the duration.
                var index = keys.IndexAt(Interlocked.Increment(ref next) % keys.Count, random: true);
                var key = keys.Key(index);
                var value = keys.Value(index);
                var started = Stopwatch.GetTimestamp();
                await engine.PutAsync(key, value);
                latency.RecordSince(started);
                ops++;
                progress.Add(1);
            }

            return ops;
        });
    }

    private static async Task<Measured> ReadAsync(IBenchEngine engine, BenchKeys keys, WorkloadSpec spec, string label)
    {
        var scans = spec.Workload == "scan";
        var total = scans ? Math.Max(1, spec.OpsOrDefault / 10) : spec.OpsOrDefault;
        var missing = spec.Workload == "readmissing";
        long next = 0;
        await using var progress = new LiveProgress(label, total);
        return await RunWorkersAsync(spec.ClientsOrDefault, async (client, latency) =>
        {
            var random = new Random(spec.Seed + client);
            long ops = 0;
            while (Interlocked.Increment(ref next) <= total)
            {
                var index = random.NextInt64(keys.Count) + (missing ? keys.Count : 0);
                var key = keys.Key(index);
                var started = Stopwatch.GetTimestamp();
                if (scans)
                {
                    var read = await engine.ScanAsync(key, spec.ScanRows);
                    latency.RecordSince(started);
                    if (read == 0)
                    {
                        throw new InvalidOperationException($"{engine.Name}: a scan from key {index} read nothing");
                    }
                }
                else
                {
                    var value = await engine.GetAsync(key);
                    latency.RecordSince(started);
                    if ((value is null) != missing)
                    {
                        throw new InvalidOperationException($"{engine.Name}: key {index} {(missing ? "was found but never written" : "was written but not found")}");
                    }
                }

                ops++;
                progress.Add(1);
            }

            return ops;
        });
    }

    private static async Task<Measured> MixedAsync(IBenchEngine engine, BenchKeys keys, WorkloadSpec spec, string label)
    {
        var zetaN = spec.Zipfian ? Zipfian.Zeta(keys.Count) : 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(spec.Duration.TotalSeconds * Stopwatch.Frequency);
        await using var progress = new LiveProgress(label, 0, spec.Duration);
        return await RunWorkersAsync(spec.ClientsOrDefault, async (client, latency) =>
        {
            var random = new Random(spec.Seed + client);
            var zipfian = spec.Zipfian ? new Zipfian(keys.Count, zetaN, spec.Seed + client) : null;
            long ops = 0;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var index = zipfian?.Next() ?? random.NextInt64(keys.Count);
                var key = keys.Key(index);
                var read = random.NextDouble() < spec.ReadRatio;
                var value = read ? null : keys.Value(index);
                var started = Stopwatch.GetTimestamp();
                if (read)
                {
                    _ = await engine.GetAsync(key);
                }
                else
                {
                    await engine.PutAsync(key, value!);
                }

                latency.RecordSince(started);
                ops++;
                progress.Add(1);
            }

            return ops;
        });
    }

    /// <summary>Writes every key once in ascending batches (untimed set-up of the read workloads).</summary>
    private static async Task LoadAsync(IBenchEngine engine, BenchKeys keys)
    {
        var rows = new List<KeyValuePair<byte[], byte[]>>(LoadBatch);
        for (long i = 0; i < keys.Count; i += LoadBatch)
        {
            rows.Clear();
            for (var j = i; j < Math.Min(keys.Count, i + LoadBatch); j++)
            {
                rows.Add(new(keys.Key(j), keys.Value(j)));
            }

            await engine.PutBatchAsync(rows);
        }
    }

    /// <summary>Reads every key once, so the measured reads find what fits in the cache already there.</summary>
    private static async Task WarmAsync(IBenchEngine engine, BenchKeys keys)
    {
        for (long i = 0; i < keys.Count; i++)
        {
            _ = await engine.GetAsync(keys.Key(i));
        }
    }

    /// <summary>
    /// Runs <paramref name="workers"/> closed-loop workers on threads of their own: the peers' calls block, and a
    /// blocked thread-pool thread would make the pool inject threads slowly and time that instead of the engine.
    /// </summary>
    private static async Task<Measured> RunWorkersAsync(int workers, Func<int, LatencyRecorder, Task<long>> body)
    {
        var recorders = Enumerable.Range(0, workers).Select(_ => new LatencyRecorder()).ToArray();
        var gc = GcActivity.Now();
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers)
            .Select(w => Task.Factory.StartNew(() => body(w, recorders[w]), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap())
            .ToArray();
        var ops = (await Task.WhenAll(tasks)).Sum();
        clock.Stop();
        return new Measured(ops, clock.Elapsed.TotalSeconds, LatencyRecorder.Merge(recorders), GcActivity.Since(gc));
    }

    private sealed record Measured(long Ops, double Seconds, LatencyRecorder Latency, GcActivity Gc);
}
